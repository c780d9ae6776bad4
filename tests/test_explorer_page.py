"""The feature explorer in a real browser: the page `dvc repro` builds from the synthetic archive, opened
from the file system in headless Chromium, clicked through, its drawn pixels checked against the
activations the extract stage stored."""

import json
import re

import numpy as np
import pytest

from browser import browser_page, screenshot
from conftest import Project
from lib.explorer import LEVELS, Scale, as_grid, colour_table, probe_names, probe_sample, quantise
from lib.store import load_arrays, read_csv

pytestmark = pytest.mark.e2e
MODELS = ("dummy", "benchmark")
LUT = np.array([[int(hex_[k:k + 2], 16) for k in (0, 2, 4)] for hex_ in re.findall(".{6}", colour_table())])


@pytest.fixture(scope="session")
def explored(tmp_path_factory, baseline):
    """A copy of the project after `dvc repro` of the whole pipeline on the synthetic archive, read by
    this file's tests (one per xdist worker)."""
    project = Project.copy_of(baseline, tmp_path_factory.mktemp("explored") / "project")
    project.page = project.path / "plots/explorer/index.html"
    text = project.page.read_text()
    project.data = json.loads(text[text.index('id="explorer-data">') + len('id="explorer-data">'):text.index("</script>")])
    return project


def activation(project, image, model, layer):
    """One image's float32 values of a layer, as the extract stage stored them."""
    names = [entry["name"] for entry in project.data["images"]]
    subjects = load_arrays(project.path / "data/subjects.npz")["names"].tolist()
    if names[image] in subjects:
        return load_arrays(project.path / f"data/activations/{model}/0/subjects.npz")[layer][subjects.index(names[image])]
    probe = load_arrays(project.path / "data/probe.npz")
    row = probe_names(probe["indices"]).index(names[image])
    return load_arrays(project.path / f"data/activations/{model}/0/probe.npz")[layer][row]


def expected_map(project, image, model, layer, channel, curve):
    """The colours the page must draw for one map, from the float32 activations extract stored."""
    values = activation(project, image, model, layer)
    card = project.data["cards"][model]
    stored = card["same"].get(layer, layer)
    channels, rows, columns = card["grids"][layer]
    scale = Scale(**project.data["scales"][stored])
    levels = quantise(as_grid(values[None])[0, channel], scale).astype(int)
    if curve == "sqrt":
        levels = np.rint(np.sqrt(levels / LEVELS) * LEVELS).astype(int)
    colours = LUT[levels]
    if channels == 1:
        colours[card["counts"][layer]:] = 204  # the grey after the last value of a flattened map
    return colours.reshape(rows, columns, 3)


DRAWN = """model => {
    const canvas = document.querySelector(`figure.model[data-model="${model}"] canvas.enlarged`);
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    return {width: canvas.width, height: canvas.height, channel: Number(canvas.dataset.channel), pixels: Array.from(pixels)};
}"""


def drawn_map(tab, model):
    found = tab.evaluate(DRAWN, model)
    pixels = np.array(found["pixels"]).reshape(found["height"], found["width"], 4)
    assert (pixels[..., 3] == 255).all()
    return pixels[..., :3], found["channel"]


def open_page(tab, project, hash_=""):
    tab.goto(project.page.as_uri() + hash_)
    tab.wait_for_function("() => document.documentElement.dataset.drawn || document.documentElement.dataset.failed")
    assert tab.evaluate("document.documentElement.dataset.failed") is None


def view(tab):
    return tab.evaluate("document.documentElement.dataset.view")


def check_maps(tab, project, curve="sqrt"):
    """Every model's enlarged map equals, pixel for pixel, the stored activation on the page's scale."""
    image, layer, channel = view(tab).split("/")
    drawn = {}
    for model in MODELS:
        pixels, shown = drawn_map(tab, model)
        expected = expected_map(project, int(image), model, layer, shown, curve)
        assert shown == min(int(channel), project.data["cards"][model]["grids"][layer][0] - 1)
        assert pixels.shape == expected.shape and (pixels == expected).all(), (model, image, layer, shown)
        drawn[model] = pixels
    return drawn


def test_the_first_view_draws_the_stored_activations_offline_without_an_error(explored):
    data = explored.data
    sample = probe_sample(load_arrays(explored.path / "data/probe.npz")["labels"], 12)
    assert [entry["name"] for entry in data["images"]] == ["frog"] + [
        f"test {i}" for i in load_arrays(explored.path / "data/probe.npz")["indices"][sample]]
    with browser_page() as (tab, visit):
        open_page(tab, explored)
        assert view(tab) == "0/conv2d_1/0"
        check_maps(tab, explored)
        side = tab.evaluate("(() => { const c = document.getElementById('input'); return [c.width, c.height]; })()")
        assert side == [32, 32]
        busiest = int(np.argmax([len(np.unique(expected_map(explored, 0, "benchmark", "conv2d_1", c, "linear")))
                                 for c in range(16)]))
        tab.locator('figure.model[data-model="benchmark"] .channels canvas').nth(busiest).click()
        tab.wait_for_function(f"() => document.documentElement.dataset.view === '0/conv2d_1/{busiest}'")
        rooted = check_maps(tab, explored)
        tab.select_option("#curve", "linear")
        linear = check_maps(tab, explored, "linear")
        assert not (linear["benchmark"] == rooted["benchmark"]).all()
        tab.wait_for_function("() => document.documentElement.dataset.charts", timeout=60_000)
        charts = int(tab.evaluate("document.documentElement.dataset.charts"))
        screenshot(tab, "explorer_desktop")
        softmax = tab.locator('#softmax .bars[data-model="dummy"] .true').all_inner_texts()
    assert softmax == ["frog"]
    assert charts >= 8  # CKA, two training curves, five size-sweep and its CKA, the dynamics charts
    assert visit.errors == [] and visit.remote == [], (visit.errors, visit.remote)


def test_clicking_through_layers_channels_models_and_images_draws_what_the_data_holds(explored):
    with browser_page() as (tab, visit):
        open_page(tab, explored)
        seen = [check_maps(tab, explored)["benchmark"]]
        tab.select_option("#layer", "dense_1")
        tab.wait_for_function("() => document.documentElement.dataset.view === '0/dense_1/0'")
        seen.append(check_maps(tab, explored)["benchmark"])
        tab.locator('figure.model[data-model="benchmark"] .channels canvas').nth(37).click()
        tab.wait_for_function("() => document.documentElement.dataset.view === '0/dense_1/37'")
        seen.append(check_maps(tab, explored)["benchmark"])
        box = tab.locator('figure.model[data-model="benchmark"] canvas.enlarged').bounding_box()
        tab.mouse.move(box["x"] + 5.5 * box["width"] / 8, box["y"] + 2.5 * box["height"] / 8)
        readout = tab.locator("#readout").inner_text()
        tab.keyboard.press("ArrowRight")
        tab.wait_for_function("() => document.documentElement.dataset.view === '1/dense_1/37'")
        seen.append(check_maps(tab, explored)["benchmark"])
        tab.keyboard.press("ArrowUp")
        tab.wait_for_function("() => document.documentElement.dataset.view === '1/dense_1/38'")
        seen.append(check_maps(tab, explored)["benchmark"])
        tab.keyboard.press("ArrowLeft")
        tab.keyboard.press("ArrowLeft")
        last = len(explored.data["images"]) - 1
        tab.wait_for_function(f"() => document.documentElement.dataset.view === '{last}/dense_1/38'")
        check_maps(tab, explored)
        tab.keyboard.press("]")
        tab.wait_for_function(f"() => document.documentElement.dataset.view.startsWith('{last}/dropout_1/')")
        copy = check_maps(tab, explored)
        assert "the same values as dense_1" in tab.locator('figure.model[data-model="dummy"] p').inner_text()
        for layer in ("flatten_1", "dense_2"):
            tab.select_option("#layer", layer)
            tab.wait_for_function(f"() => document.documentElement.dataset.view === '{last}/{layer}/0'")
            check_maps(tab, explored)
        tab.locator('#models input[data-model="dummy"]').click()
        tab.wait_for_function("() => document.querySelector('figure.model[data-model=\"dummy\"]').hidden")
        one_model = tab.locator("#measures tr").first.inner_text()
        tab.locator('#models input[data-model="benchmark"]').click()  # the last model shown stays
        kept = tab.locator('#models input[data-model="benchmark"]').is_checked()
        tab.locator('#models input[data-model="dummy"]').click()
        tab.wait_for_function("() => !document.querySelector('figure.model[data-model=\"dummy\"]').hidden")
        tab.locator("#strip canvas").nth(3).click()
        tab.wait_for_function("() => document.documentElement.dataset.view === '3/dense_2/0'")
        flat = check_maps(tab, explored)
        table = tab.locator("#measures").inner_text()
        url = tab.url
        screenshot(tab, "explorer_clicked")
    assert len({pixels.tobytes() for pixels in seen}) >= 4, "the steps left the map as it was"
    found = re.fullmatch(r"benchmark dense_1 channel 37, row 2, column 5: (\S+) \(stored to ±(\S+)\)", readout)
    assert found, readout
    truth = activation(explored, 0, "benchmark", "dense_1")[2, 5, 37]
    step = explored.data["scales"]["dense_1"]["step"]
    assert float(found[2]) == pytest.approx(step / 2, rel=0.05)  # printed to two digits
    assert abs(float(found[1]) - truth) <= step / 2 + 5e-4 * abs(truth)  # the value to four
    assert "benchmark" in one_model and "dummy" not in one_model and kept
    assert copy["dummy"].shape == (8, 8, 3) and flat["dummy"].shape == (3, 4, 3)
    assert "entropy_bits" in table and "output: p_label" in table and "%" in table
    assert url.endswith("#image=3&layer=dense_2&channel=0")
    assert visit.errors == [] and visit.remote == [], (visit.errors, visit.remote)


def test_a_view_opens_from_its_address_and_fits_a_phone(explored):
    with browser_page(390, 844) as (tab, visit):
        open_page(tab, explored, "#image=2&layer=conv2d_2&channel=5")
        assert view(tab) == "2/conv2d_2/5"
        check_maps(tab, explored)
        overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        big = tab.evaluate("document.querySelector('figure.model canvas.enlarged').getBoundingClientRect().width")
        tab.wait_for_function("() => document.documentElement.dataset.charts", timeout=60_000)
        screenshot(tab, "explorer_phone")
    assert overflow <= 0 and 100 <= big <= 390
    assert visit.errors == [] and visit.remote == [], (visit.errors, visit.remote)


def test_each_claim_links_to_its_numbers_and_the_epoch_slider_moves_the_table_and_charts(explored):
    verdicts = explored.data["verdicts"]
    assert len(verdicts) == 9 and all(v["refs"] for v in verdicts)
    with browser_page() as (tab, visit):
        open_page(tab, explored)
        tab.wait_for_function("() => document.documentElement.dataset.charts", timeout=60_000)
        badges = tab.locator("#verdict-list > li .badge").all_inner_texts()
        tab.locator("#verdict-list > li").nth(1).locator(".refs a").first.click()
        tab.wait_for_function("() => document.documentElement.dataset.view === '0/dense_1/0'")
        flashed = tab.locator("#measures tr.flash").get_attribute("data-measure")
        tab.locator("#verdict-list > li").nth(6).locator(".refs a").nth(1).click()  # R1, the last hidden layer
        tab.wait_for_function("() => document.querySelector('#measures tr.flash[data-part=reliance]')")
        reliance = tab.locator("#measures tr.flash").get_attribute("data-measure")
        tab.locator("#verdict-list > li").nth(3).locator(".refs a").first.click()  # claim 4, on the frog
        tab.wait_for_function("() => document.documentElement.dataset.view.startsWith('0/')")
        shared = set.intersection(*({e["epoch"] for e in runs} for runs in explored.data["epochs"].values()))
        before = tab.locator("#epoch-table").inner_text()
        tab.locator("#epoch").fill("0")
        after = tab.locator("#epoch-table").inner_text()
        marked = tab.evaluate("""() => window.explorer.views.filter(([name]) => name.startsWith('dynamics'))
            .map(([, view]) => view.signal('epoch'))""")
    assert badges == [v["verdict"] for v in verdicts]
    assert flashed == "zero_fraction" and reliance == "retained_area"
    assert f"at epoch {max(shared)}" in before and "at epoch 0" in after and before != after
    assert "not replayed" not in before
    assert len(marked) >= 3 and set(marked) == {0}, marked
    assert visit.errors == [] and visit.remote == [], (visit.errors, visit.remote)


def test_the_sample_size_is_a_param_that_reruns_the_explorer_alone(reproduced):
    reproduced.params["explore"]["probe_images"] = 20
    reproduced.write_params(reproduced.params)
    ran = re.findall(r"Running stage '([^']+)'", reproduced.dvc("repro").stdout)
    assert ran == ["explore"]
    assert len(list((reproduced.path / "plots/explorer/images").glob("*.js"))) == 21
    reproduced.params["explore"]["probe_images"] = 21
    reproduced.write_params(reproduced.params)
    refused = reproduced.dvc("repro", check=False)
    assert refused.returncode and "explore.probe_images = 21: must be at most analysis.probe_size (20)" in refused.stderr
    assert [path.name for path in (reproduced.path / "plots").iterdir() if path.name.startswith(".explorer")] == []
    reproduced.params["explore"]["probe_images"] = 12
    reproduced.write_params(reproduced.params)
    reproduced.dvc("repro")
    assert len(list((reproduced.path / "plots/explorer/images").glob("*.js"))) == 13


def test_a_missing_or_damaged_image_file_is_named_on_the_page_and_the_others_still_draw(explored, tmp_path):
    import shutil

    copy = tmp_path / "explorer"
    shutil.copytree(explored.path / "plots/explorer", copy)
    (copy / "images/1.js").unlink()
    damaged = (copy / "images/2.js").read_text().replace('explorer.receive(2,"', 'explorer.receive(2,"AAAA', 1)
    (copy / "images/2.js").write_text(damaged)
    with browser_page() as (tab, visit):
        tab.goto((copy / "index.html").as_uri())
        tab.wait_for_function("() => document.documentElement.dataset.drawn")
        tab.keyboard.press("ArrowRight")
        tab.wait_for_function("() => document.getElementById('readout').textContent.includes('images/1.js')")
        missing = tab.locator("#readout").inner_text()
        tab.locator("#strip canvas").nth(2).click()
        tab.wait_for_function("() => !document.getElementById('readout').textContent.includes('images/1.js')")
        broken = tab.locator("#readout").inner_text()
        tab.locator("#strip canvas").nth(3).click()
        tab.wait_for_function("() => document.documentElement.dataset.view.startsWith('3/')")
        check_maps(tab, explored)
    assert missing == "cannot read images/1.js beside this page"
    assert "compressed data was not valid" in broken, broken


CANVAS = """(selector) => Array.from(document.querySelectorAll(selector)).map((canvas) => ({
    width: canvas.width, height: canvas.height, index: canvas.dataset.index ? Number(canvas.dataset.index) : null,
    red: Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data).filter((_, i) => i % 4 === 0)}))"""


def test_a_channels_top_images_and_optimised_input_and_a_subjects_maps_are_drawn_from_the_stages_outputs(explored):
    from lib.cifar import official_test_split
    from lib.cifar import model_inputs

    run = explored.path / "data/channels/benchmark/0"
    examples, features = load_arrays(run / "examples.npz"), load_arrays(run / "features.npz")
    images, _, indices = official_test_split(explored.path / "data/val.npz", explored.path / "data/test.npz")
    seen = np.rint(model_inputs(images, grayscale=True)[..., 0].astype(np.float64) * 255)
    channel = int(np.flatnonzero(~examples["conv2d_2/constant"] & ~features["conv2d_2/constant"])[0])
    panel = 'figure.panel[data-model="benchmark"]'
    with browser_page() as (tab, visit):
        open_page(tab, explored, "#image=0&layer=conv2d_2&channel=0")
        tab.wait_for_function("() => document.documentElement.dataset.channels")
        tab.locator('figure.model[data-model="benchmark"] .channels canvas').nth(channel).click()
        tab.wait_for_function(f"() => document.documentElement.dataset.view === '0/conv2d_2/{channel}'")
        crops = tab.evaluate(CANVAS, f"#channel-models {panel} .examples canvas")
        feature = tab.evaluate(CANVAS, f"#channel-models {panel} canvas.enlarged")
        tab.locator(f"#channel-models {panel} .examples canvas").first.hover()
        hover = tab.locator("#hover-caption").inner_text()
        tally = tab.locator(f"#channel-models {panel} .tally span:nth-child(3n)").all_inner_texts()
        drops = tab.locator(f"#channel-models {panel} .drops span:nth-child(3n)").all_inner_texts()
        damage = tab.locator(f"#channel-models {panel} p.damage").inner_text()
        link = tab.locator(f"#channel-models {panel} a.input-link").first
        below = (link.get_attribute("data-layer"), int(link.get_attribute("data-channel")))
        link.click()  # down the circuit: the channel's strongest input
        tab.wait_for_function(f"() => document.documentElement.dataset.view === '0/{below[0]}/{below[1]}'")
        tab.select_option("#layer", "dense_2")
        tab.wait_for_function("() => document.querySelectorAll('#channel-models .classes-strip canvas').length === 20")
        attributions = tab.evaluate(CANVAS, "#attribution-models canvas.overlay")
        verdicts = tab.locator("#attribution-models .passed, #attribution-models .flagged, "
                               "#attribution-models .undefined").all_inner_texts()
        screenshot(tab, "explorer_channels")
    assert [crop["index"] for crop in crops] == examples["conv2d_2/index"][channel].tolist()
    for crop, (top, left, bottom, right), index in zip(crops, examples["conv2d_2/box"][channel],
                                                        examples["conv2d_2/index"][channel]):
        expected = seen[np.searchsorted(indices, index), top:bottom, left:right]
        assert (crop["height"], crop["width"]) == expected.shape and crop["red"] == expected.ravel().tolist()
    top, left, bottom, right = json.loads((run / "channels.json").read_text())["layers"]["conv2d_2"]["features_box"]
    assert (feature[0]["height"], feature[0]["width"]) == (bottom - top, right - left) < (32, 32)  # cropped to the window
    assert feature[0]["red"] == np.rint(features["conv2d_2/image"][channel, top:bottom, left:right, 0].astype(np.float64)
                                        * 255).ravel().tolist()
    assert hover.startswith(f"test {examples['conv2d_2/index'][channel][0]}: peak ")
    assert [float(count) for count in tally] == pytest.approx(examples["conv2d_2/tally"][channel].tolist(), abs=0.05)
    inputs = examples["conv2d_2/inputs"][channel]
    assert below == ("conv2d_1", int(np.argmax(inputs) if inputs.max() > 0 else np.argmin(inputs)))
    rows = [row for row in read_csv(explored.path / "plots/reliance/classes.csv")
            if (row["model"], row["seed"], row["layer"], row["channel"]) == ("benchmark", "0", "conv2d_2", str(channel))]
    assert [float(d) for d in drops] == pytest.approx([float(row["accuracy_drop"]) for row in rows], abs=5e-4)
    assert damage.startswith("Zeroed alone (probe set): its most-hurt class")
    assert len(attributions) == 8 and all(a["width"] == 32 for a in attributions)  # 2 models x 2 methods x trained, initial
    assert len(verdicts) == 4
    assert visit.errors == [] and visit.remote == [], (visit.errors, visit.remote)
