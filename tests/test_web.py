"""The offline page template for `dvc plots show`: built from the vendored libraries, and drawn by
Chromium with no network."""

import shutil
import subprocess
import sys

import yaml
from dvc_render.base import Renderer

from browser import browser_page, plots_drawn, screenshot
from conftest import ROOT
from web.vendor import PACKAGES, PAGE, PLACEHOLDERS, VENDOR, offline_page


def test_the_template_dvc_uses_is_the_vendored_libraries_inlined_with_dvcs_placeholder():
    page = PAGE.read_text(encoding="utf8")
    assert page == offline_page(), "run `python stages/web/vendor.py --page-only` to rebuild .dvc/offline.html"
    assert "offline.html" in (ROOT / ".dvc" / "config").read_text()
    assert page.count("{plot_divs}") == 1 and "{scripts}" not in page  # {scripts} would bring DVC's CDN tags
    assert "<script src" not in page and "cdn." not in page
    for name, version, _, build, _ in PACKAGES:
        assert (VENDOR / build).read_text(encoding="utf8") in page
        assert f"## {build}: {name} {version}" in (VENDOR / "LICENSES.md").read_text()
    assert all(page.count(p) == (1 if p != "{scripts}" else 0) for p in PLACEHOLDERS)


def test_dvc_plots_show_with_the_template_draws_every_plot_with_no_request_leaving_the_machine(tmp_path):
    (tmp_path / "curve.csv").write_text("epoch,accuracy\n" + "".join(f"{e},{e / 10}\n" for e in range(1, 10)))
    (tmp_path / "bars.csv").write_text("class,p\n" + "".join(f"c{i},{i / 45}\n" for i in range(10)))
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    for name in ("config", "offline.html"):
        shutil.copy(ROOT / ".dvc" / name, tmp_path / ".dvc" / name)
    subprocess.run([sys.executable, "-m", "dvc", "plots", "show", "curve.csv", "bars.csv", "-o", "out"],
                   cwd=tmp_path, check=True, capture_output=True)
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf8")
    assert "cdn.jsdelivr" not in html and html.count("vegaEmbed(") == 2
    with browser_page() as (page, visit):
        page.goto((tmp_path / "out" / "index.html").as_uri())
        inked, _ = plots_drawn(page, 2)
        screenshot(page, "dvc_plots_minimal")
    assert len(inked) == 2 and all(count > 200 for count in inked), inked
    assert visit.errors == [] and visit.remote == []


def test_every_plot_title_makes_an_id_dvcs_page_can_quote():
    """DVC's page calls vegaEmbed('#<id>', spec) with the title as the id: a quote in a title breaks
    that plot's script (found by the browser test: eight plots were blank)."""
    plots = yaml.safe_load((ROOT / "dvc.yaml").read_text())["plots"]
    titles = [next(iter(plot)) if isinstance(plot, dict) else plot for plot in plots]
    assert len(titles) > 20
    unsafe = [title for title in titles if set(Renderer.remove_special_chars(title)) & set("'\"\\")]
    assert not unsafe, unsafe
