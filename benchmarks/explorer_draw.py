"""How fast the feature explorer draws, in headless Chromium (Debian's), opened from the file system.

Each round opens the page in a fresh browser and records, from the start of navigation: the first
view drawn (input, every model's maps, histograms, softmax, measures: the issue's budget is 1 s),
the channel view drawn (channels.js read after the first view: optimised inputs, top images),
every chart drawn (after Vega loads), and the renderer's CPU time by then (Chromium's TaskDuration);
then the time to step to the next image (its script read, inflated and drawn). With `--baseline`
(the page `dvc plots show` writes, e.g. html/index.html) the rounds alternate explorer, baseline,
explorer, … and the baseline's figure is the time until all its plots are drawn. Medians are printed.

    python benchmarks/explorer_draw.py plots/explorer/index.html --baseline html/index.html --rounds 7
"""

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import CHROMIUM, FLAGS  # noqa: E402  (the tests' browser, flags and all)

STEP = """() => new Promise(done => {
    const before = document.documentElement.dataset.view, start = performance.now();
    new MutationObserver((_, observer) => {
        if (document.documentElement.dataset.view !== before) { observer.disconnect(); done(performance.now() - start); }
    }).observe(document.documentElement, {attributes: true});
    document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}));
})"""
PLOTS_DRAWN = "() => document.querySelectorAll('.vega-embed .marks').length >= {count}"


def cpu_seconds(session):
    return {m["name"]: m["value"] for m in session.send("Performance.getMetrics")["metrics"]}["TaskDuration"]


def explorer_round(browser, page):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    session = context.new_cdp_session(tab)
    session.send("Performance.enable")
    tab.goto(page.as_uri())
    tab.wait_for_function("() => document.documentElement.dataset.drawn", timeout=60_000)
    first = tab.evaluate("window.explorerFirstDraw")
    tab.wait_for_function("() => document.documentElement.dataset.channels", timeout=60_000)
    channels = tab.evaluate("window.explorerChannelsDrawn")
    tab.wait_for_function("() => document.documentElement.dataset.charts", timeout=120_000)
    charts, cpu = tab.evaluate("window.explorerChartsDrawn"), cpu_seconds(session)
    step = tab.evaluate(STEP)
    context.close()
    return {"first view (ms)": first, "channel view (ms)": channels, "all charts (ms)": charts, "renderer CPU by then (ms)": 1000 * cpu,
            "next image (ms)": step}


def baseline_round(browser, page, count):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    session = context.new_cdp_session(tab)
    session.send("Performance.enable")
    tab.goto(page.as_uri())
    tab.wait_for_function(PLOTS_DRAWN.format(count=count), timeout=120_000)
    drawn = tab.evaluate("performance.now()")
    cpu = cpu_seconds(session)
    context.close()
    return {"all plots (ms)": drawn, "renderer CPU by then (ms)": 1000 * cpu}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("page", type=Path, help="the explorer's index.html")
    parser.add_argument("--baseline", type=Path, help="a `dvc plots show` page to time beside it")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    size = sum(p.stat().st_size for p in args.page.parent.rglob("*") if p.is_file())
    print(f"explorer: {args.page.parent}/ weighs {size / 1e6:.1f} MB ({len(list(args.page.parent.glob('images/*.js')))} images)")
    results = {"explorer": [], "baseline": []}
    with sync_playwright() as playwright:
        if args.baseline:
            text = args.baseline.read_text()
            count = text.count("vegaEmbed(")
            print(f"baseline: {args.baseline} ({count} Vega plots)")
        for _ in range(args.rounds):
            for side in ("explorer", "baseline") if args.baseline else ("explorer",):
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
                try:
                    results[side].append(explorer_round(browser, args.page) if side == "explorer"
                                         else baseline_round(browser, args.baseline, count))
                finally:
                    browser.close()
    for side, rounds in results.items():
        if rounds:
            print(f"{side}, median of {len(rounds)} rounds (min-max):")
            for key in rounds[0]:
                values = [r[key] for r in rounds]
                print(f"  {key:28} {statistics.median(values):8.0f}   ({min(values):.0f}-{max(values):.0f})")
    print("budget: first view within 1000 ms")


if __name__ == "__main__":
    main()
