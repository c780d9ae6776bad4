"""The feature explorer's contents: sample, layout, one-byte storage, measures, percentiles, the page."""

import base64
import json
import re
import shutil
import subprocess
import zlib

import numpy as np
import pytest

from lib import explorer
from lib.analysis import Run, probe_metrics, subjects_metrics
from lib.cifar import NO_LABEL, Images
from lib.explorer import (LEVELS, MAX_BARS, ImageSet, Scale, as_grid, channel_numbers, grid, layer_scale, percentile,
                          probe_names, probe_sample, quantise, value_histogram)
from lib.measures import fixed_width_entropy
from reference import entropy_bits
from test_analysis import fake_run

rng = np.random.default_rng(3)


def test_the_probe_sample_takes_each_class_in_turn_and_is_balanced():
    labels = np.array([2, 0, 1, 0, 2, 1, 0, 1, 2, 0])
    assert probe_sample(labels, 10).tolist() == [1, 2, 0, 3, 5, 4, 6, 7, 8, 9]
    assert probe_sample(labels, 4).tolist() == [1, 2, 0, 3]
    assert probe_sample(labels, 0).tolist() == []
    drawn = probe_sample(np.repeat(np.arange(10), 20), 100)
    assert np.bincount(np.repeat(np.arange(10), 20)[drawn]).tolist() == [10] * 10 and len(set(drawn)) == 100


def test_a_map_layer_is_drawn_channel_by_channel_and_anything_else_as_one_square_map():
    assert grid((32, 32, 16)) == (16, 32, 32) and grid((4096,)) == (1, 64, 64)
    assert grid((10,)) == (1, 3, 4) and grid((3, 5)) == (1, 4, 4)
    values = np.arange(2 * 2 * 3 * 4).reshape(2, 2, 3, 4).astype(np.float32)
    laid = as_grid(values)
    assert laid.shape == (2, 4, 6) and laid[1, 3].tolist() == values[1, :, :, 3].ravel().tolist()
    flat = as_grid(np.arange(1, 21, dtype=np.float32).reshape(2, 10))
    assert flat.shape == (2, 1, 12) and flat[1, 0].tolist() == [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 0, 0]


def test_values_are_stored_in_one_byte_within_half_a_step_of_the_truth():
    scale = layer_scale([np.array([0.0, 1.0]), np.array([2.55])])
    assert scale == Scale(0.0, pytest.approx(0.01))
    assert quantise(np.array([0.0, 1.0, 2.55, 0.004, 0.006]), scale).tolist() == [0, 100, 255, 0, 1]
    values = rng.normal(size=5000) * 3
    scale = layer_scale([values])
    back = scale.low + quantise(values, scale) * scale.step
    assert np.abs(back - values).max() <= scale.step / 2 + 1e-12
    assert quantise(values, scale).min() == 0 and quantise(values, scale).max() == LEVELS
    same = layer_scale([np.full(5, 0.3)])
    assert same.step == 0 and quantise(np.full(5, 0.3), same).tolist() == [0] * 5


def test_the_histogram_drawn_has_the_entropy_the_measure_reports():
    image = np.maximum(rng.normal(size=(1, 8, 8, 16)), 0)
    histogram = value_histogram(image, 1 / 20)
    counts = [histogram["zeros"], *histogram["counts"]]
    assert sum(counts) == image.size and histogram["zeros"] == int((image == 0).sum()) and histogram["merge"] == 1
    assert entropy_bits(counts) == pytest.approx(fixed_width_entropy(image, 1 / 20)[0], abs=1e-12)
    assert histogram["first"] == int(np.floor(image[image > 0].min() * 20))
    wide = value_histogram(np.array([0.001, 1000.0]), 1 / 50)
    assert wide["merge"] == int(np.ceil((50000 - 0 + 1) / MAX_BARS)) and len(wide["counts"]) <= MAX_BARS
    assert sum(wide["counts"]) == 2
    assert value_histogram(np.zeros(7), 0.1) == {"zeros": 7, "first": 0, "width": 0.1, "merge": 1, "counts": []}


def test_percentiles_count_lower_values_and_half_the_ties():
    ordered = np.array([1.0, 2.0, 2.0, 3.0])
    assert [percentile(ordered, v) for v in (0.5, 1.0, 2.0, 3.5)] == [0, 12.5, 50, 100]
    assert percentile(ordered, None) is None and percentile(ordered, float("nan")) is None
    assert percentile(np.array([]), 1.0) is None


def with_copy(run):
    """The run with dropout_1 repeating dense_1 exactly, as it does at inference."""
    acts = dict(run.acts, dropout_1=run.acts["dense_1"].copy())
    return Run(run.layers, run.roles, acts)


@pytest.fixture(scope="module")
def sets():
    n_probe = 30
    probe_runs = {"dummy": with_copy(fake_run(n_probe, 1.0, 0.5)), "benchmark": with_copy(fake_run(n_probe, 2.0, 1.0))}
    subject_runs = {"dummy": with_copy(fake_run(2, 1.0, 0.5)), "benchmark": with_copy(fake_run(2, 2.0, 1.0))}
    pixels = rng.integers(0, 256, (n_probe, 32, 32, 3), dtype=np.uint8)
    probe = ImageSet(Images(pixels, np.arange(n_probe) % 10, probe_names(range(n_probe))).seen(True), probe_runs)
    subjects = ImageSet(Images(pixels[:2], np.array([6, NO_LABEL]), ["frog", "photo"]).seen(True), subject_runs)
    return subjects, probe


@pytest.fixture(scope="module")
def built(sets):
    subjects, probe = sets
    return explorer.explorer(subjects, probe, probe_sample(probe.images.labels, 10), 20, ["dummy", "benchmark"])


def blocks_of(scripts):
    return [np.frombuffer(zlib.decompress(block), np.uint8) for block, _ in scripts]


def test_every_map_drawn_is_the_activation_within_half_a_step_on_one_scale_per_layer(sets, built):
    subjects, probe = sets
    data, scripts = built
    sample = probe_sample(probe.images.labels, 10)
    shown = [(subjects, i) for i in range(2)] + [(probe, i) for i in sample]
    assert len(scripts) == len(data["images"]) == 12
    assert [entry["name"] for entry in data["images"]][:3] == ["frog", "photo", f"test {sample[0]}"]
    assert data["cards"]["dummy"]["same"] == {"dropout_1": "dense_1"}
    stored = [layer for layer, _, _ in data["cards"]["dummy"]["blocks"]]
    assert "dropout_1" not in stored and stored[0] == "conv2d_1" and "flatten_1" in stored
    for (images, i), block in zip(shown, blocks_of(scripts)):
        assert len(block) == data["block_length"]
        for model in ("dummy", "benchmark"):
            for layer, offset, size in data["cards"][model]["blocks"]:
                scale = data["scales"][layer]
                valid = data["cards"][model]["counts"][layer]  # a flattened map ends in padding, drawn grey
                truth = as_grid(images.runs[model].acts[layer][i:i + 1]).ravel()[:valid]
                drawn = scale["low"] + block[offset:offset + valid] * scale["step"]
                assert np.abs(drawn - truth).max() <= scale["step"] / 2 + 1e-6, (model, layer)
    for layer, scale in data["scales"].items():
        values = np.concatenate([images.runs[m].acts[layer][[i]].ravel() for images, i in shown for m in images.runs])
        assert scale["low"] == pytest.approx(values.min()) and scale["low"] + LEVELS * scale["step"] == pytest.approx(values.max())


def test_a_subjects_numbers_are_the_analysis_numbers_and_the_probe_images_average_to_the_probe_means(sets):
    subjects, probe = sets
    models = ["dummy", "benchmark"]
    data, scripts = explorer.explorer(subjects, probe, np.arange(len(probe.images.names)), 20, models)
    analysed = subjects_metrics(subjects.images.names, subjects.images.labels, subjects.images.inputs,
                                {m: {0: subjects.runs[m]} for m in models}, 20)
    frog = scripts[0][1]["dummy"]["measures"]
    for layer, numbers in analysed["frog"]["models"]["dummy"]["layers"].items():
        for measure, value in numbers.items():
            if not measure.endswith("_seed_sd"):
                assert frog["layers"][layer][measure] == pytest.approx(value, abs=1e-6), (layer, measure)
    probe_json, _ = probe_metrics({m: {0: probe.runs[m]} for m in models}, probe.images.inputs, probe.images.labels, 20, 100, 0)
    for model in models:
        for layer, numbers in probe_json["models"][model]["layers"].items():
            for measure in ("entropy_bits", "entropy_scaled_bits", "zero_fraction", "mean", "input_mi_bits"):
                if numbers[measure] is None:  # undefined for a flat layer
                    assert {facts[model]["measures"]["layers"][layer][measure] for _, facts in scripts[2:]} == {None}
                    continue
                mean = np.mean([facts[model]["measures"]["layers"][layer][measure] for _, facts in scripts[2:]])
                assert mean == pytest.approx(numbers[measure], abs=1e-5), (model, layer, measure)
        ranks = [facts[model]["percentiles"]["layers"]["dense_1"]["mean"] for _, facts in scripts[2:]]
        assert sorted(ranks) == pytest.approx([100 * (k + 0.5) / 30 for k in range(30)], abs=1e-4)


def test_each_image_script_hands_the_page_its_block_and_facts(built):
    data, scripts = built
    text = explorer.image_script(4, *scripts[4])
    found = re.fullmatch(r'explorer\.receive\(4,"([A-Za-z0-9+/=]+)",(.*)\);\n', text, re.S)
    assert found and base64.b64decode(found[1]) == scripts[4][0]
    facts = json.loads(found[2])
    assert set(facts) == {"dummy", "benchmark"} and len(facts["dummy"]["softmax"]) == 10
    assert facts["dummy"]["predicted"] == explorer.CLASSES[int(np.argmax(facts["dummy"]["softmax"]))]
    assert set(facts["dummy"]["histograms"]) == {layer for layer, _, _ in data["cards"]["dummy"]["blocks"]}


def test_the_page_inlines_its_data_loads_its_code_by_view_and_refuses_text_that_would_end_a_script(built, tmp_path):
    data, scripts = built
    page = explorer.page({**data, "note": "</script><script>alert(1)</script>"})
    assert "</script><script>alert" not in page and "\\u003c/script>" in page
    assert re.findall(r'<script src="code/([\w.]+)"></script>', page) == list(explorer.PAGE_CODE)
    assert page.count("<script") == 1 + len(explorer.PAGE_CODE) and "/*EXPLORER_" not in page and "EXPLORER_SCRIPTS" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    with pytest.raises(ValueError, match="</script"):
        explorer.inline("<script>/*X*/</script>", {"/*X*/": "a </SCRIPT> b"})
    with pytest.raises(ValueError, match="once"):
        explorer.inline("no mark here", {"/*X*/": "x"})
    explorer.write_explorer(tmp_path / "explorer", data, scripts)
    files = sorted(p.relative_to(tmp_path / "explorer").as_posix() for p in (tmp_path / "explorer").rglob("*") if p.is_file())
    assert files == sorted(["index.html", *(f"images/{i}.js" for i in range(12)), *(f"code/{name}" for name in explorer.PAGE_CODE),
                            "vendor/LICENSES.md",
                            "vendor/vega-embed.min.js", "vendor/vega-lite.min.js", "vendor/vega.min.js"])
    before = {p: p.read_bytes() for p in (tmp_path / "explorer").rglob("*") if p.is_file()}
    explorer.write_explorer(tmp_path / "explorer", data, scripts)
    assert {p: p.read_bytes() for p in (tmp_path / "explorer").rglob("*") if p.is_file()} == before


def test_the_colour_table_is_matplotlibs_viridis_one_colour_per_stored_level():
    table = explorer.colour_table()
    assert len(table) == 6 * (LEVELS + 1) and table[:6] == "440154" and table[-6:] == "fde725"


def test_a_network_of_other_shapes_is_laid_out_by_its_own_layers(sets):
    subjects, probe = sets
    shapes = {"stem": (30, 30, 8), "pooled": (8,), "probs": (10,)}
    roles = {"first_conv": "stem", "last_hidden": "pooled", "output": "probs"}
    other = probe._replace(runs={**probe.runs, "input": fake_run(len(probe.images.names), 1.0, 0.2, shapes, roles)})
    few = subjects._replace(runs={**subjects.runs, "input": fake_run(2, 1.0, 0.2, shapes, roles)})
    data, scripts = explorer.explorer(few, other, [0, 1], 20, ["dummy", "benchmark", "input"])
    card = data["cards"]["input"]
    assert card["grids"] == {"stem": [8, 30, 30], "pooled": [1, 3, 3], "probs": [1, 3, 4]}
    assert card["counts"] == {"stem": 7200, "pooled": 8, "probs": 10}
    assert data["block_length"] == sum(size for m in data["cards"] for _, _, size in data["cards"][m]["blocks"])
    assert all(len(block) == data["block_length"] for block in blocks_of(scripts))


def test_a_layer_is_stored_once_only_where_it_repeats_another_on_every_image_shown():
    dense = np.maximum(rng.normal(size=(4, 2, 2, 3)), 0).astype(np.float32)
    layers, roles = ["dense_1", "dropout_1", "gate"], {"output": "gate"}
    on_probe = Run(layers, roles, {"dense_1": dense, "dropout_1": dense.copy(), "gate": dense * 2})
    on_subject = Run(layers, roles, {"dense_1": dense[:1], "dropout_1": dense[:1].copy(), "gate": dense[:1]})
    assert explorer.repeated(on_subject) == {"dropout_1": "dense_1", "gate": "dense_1"}
    assert explorer.repeated(on_subject, on_probe) == {"dropout_1": "dense_1"}


def test_plot_rows_read_numbers_as_numbers_and_names_as_names():
    rows = explorer.numeric_rows([{"model": "nan", "epoch": "3", "value": "-1.5e-3"},
                                  {"model": "inf", "epoch": "", "value": "nan"}])
    assert rows == [{"model": "nan", "epoch": 3.0, "value": -0.0015}, {"model": "inf", "epoch": None, "value": "nan"}]
    json.dumps(rows, allow_nan=False)


def test_the_channels_selectivity_and_importance_are_the_first_seeds_by_model_layer_and_channel():
    fields = ("model", "seed", "layer", "channel", "selectivity", "importance")
    rows = [dict(zip(fields, row)) for row in (("dummy", "0", "conv2d_1", "0", "0.25", "0.01"),
                                               ("dummy", "0", "conv2d_1", "1", "", "0"),
                                               ("dummy", "1", "conv2d_1", "0", "0.5", "0.2"))]
    assert channel_numbers(rows, 0) == {"dummy": {"conv2d_1": {"selectivity": [0.25, None], "importance": [0.01, 0.0]}}}
    assert channel_numbers(rows, 1)["dummy"]["conv2d_1"]["importance"] == [0.2]


def test_a_signed_map_is_stored_centred_on_zero_and_an_unsigned_one_from_zero_within_half_a_step():
    signed = np.array([[-2.0, 0.0], [1.0, 2.0]])
    card = {"m": {"subjects": {"frog": {"label": "frog", "predicted": "cat", "probability": 0.4, "methods": {
        "integrated_gradients": {"rank_correlation": 0.2, "passes": True},
        "grad_cam": {"rank_correlation": None, "passes": None, "sanity": "no initial weights: an imported model"}}}}}}
    maps = {"m": {"frog/integrated_gradients": signed, "frog/integrated_gradients/initial": signed / 4,
                  "frog/grad_cam": np.array([[0.0, 0.5], [1.0, 3.0]])}}
    found = explorer.attribution_views(card, maps)["m"]["frog"]
    ig, cam = found["methods"]["integrated_gradients"], found["methods"]["grad_cam"]
    stored = np.frombuffer(base64.b64decode(ig["map"]["bytes"]), np.uint8).reshape(2, 2)
    assert ig["map"]["signed"] and ig["map"]["high"] == 2
    assert np.abs((stored / LEVELS * 2 - 1) * 2 - signed).max() <= 2 / LEVELS  # half a step of the span 4
    assert stored[0, 1] in (127, 128) and ig["initial"]["high"] == 0.5 and ig["passes"] is True
    heat = np.frombuffer(base64.b64decode(cam["map"]["bytes"]), np.uint8).reshape(2, 2)
    assert not cam["map"]["signed"] and heat.tolist() == [[0, 42], [85, 255]] and cam["initial"] is None
    assert cam["sanity"].startswith("no initial weights") and found["predicted"] == "cat"


def test_a_channels_strongest_inputs_each_way_and_its_class_drops_by_channel():
    from lib.explorer import strongest

    found = strongest(np.array([0.5, -0.2, 0.0, 2.0, -0.9, 0.5]), shown=2)
    assert found == {"positive": [[3, 2.0], [0, 0.5]], "negative": [[4, -0.9], [1, -0.2]]}  # ties: the lower channel
    assert strongest(np.zeros(3)) == {"positive": [], "negative": []}
    rows = [{"model": "m", "seed": "0", "layer": "l", "channel": str(c), "selectivity": "0.5", "importance": "0",
             "most_hurt": "cat/dog" if c else "cat"} for c in range(2)]
    classes = [{"model": "m", "seed": "0", "layer": "l", "channel": str(c), "class": name, "accuracy_drop": str(c + k)}
               for c in range(2) for k, name in enumerate(("cat", "dog"))]
    numbers = channel_numbers(rows, 0, classes)["m"]["l"]
    assert numbers["most_hurt"] == ["cat", "cat/dog"] and numbers["class_drops"] == [[0.0, 1.0], [1.0, 2.0]]


def test_the_pages_code_is_every_script_of_its_folder_each_a_view_of_at_most_300_lines_and_valid():
    folder = explorer.APP
    assert sorted(explorer.PAGE_CODE) == sorted(path.name for path in folder.glob("*.js")) and explorer.PAGE_CODE[-1] == "start.js"
    for name in explorer.PAGE_CODE:
        lines = (folder / name).read_text().splitlines()
        assert len(lines) <= 300 and lines[0] == '"use strict";', name
    node = shutil.which("node")
    if node:  # Debian's nodejs, where present: each file parses as a classic script
        for name in explorer.PAGE_CODE:
            checked = subprocess.run([node, "--check", str(folder / name)], capture_output=True, text=True)
            assert checked.returncode == 0, f"{name}: {checked.stderr}"

