import numpy as np
import pytest

from lib import measures, tables
from lib.analysis import (INPUT_MEASURES, Run, input_measures, matched_layers, over_seeds, pairs, probe_metrics,
                          size_sweep, subjects_metrics)
from lib.cifar import CLASSES
from lib.measures import (LAYER_MEASURES, layer_histogram, layer_view, per_image_bin, per_image_entropy,
                          per_image_histograms_of, shared_edges)
from reference import entropy_bits

rng = np.random.default_rng(0)
SHAPES = {"conv2d_1": (32, 32, 16), "conv2d_2": (32, 32, 16), "pool_1": (16, 16, 16), "conv2d_3": (16, 16, 16),
          "conv2d_4": (16, 16, 16), "pool_2": (8, 8, 16), "conv2d_5": (8, 8, 16), "conv2d_6": (8, 8, 16),
          "dense_1": (8, 8, 64), "dropout_1": (8, 8, 64), "flatten_1": (4096,), "dense_2": (10,)}
ROLES = {"first_conv": "conv2d_1", "last_hidden": "dense_1", "output": "dense_2"}
MEASURES = {"entropy_bits", "zero_fraction", "mean", "channel_corr", "input_corr"}


def fake_run(n, scale, sparsity, shapes=SHAPES, roles=ROLES):
    """A run of a network with `shapes` (its layers, in order) on n images: ReLU-like values, a softmax."""
    acts = {layer: np.maximum(rng.normal(scale=scale, size=(n, *shape)) - sparsity, 0).astype(np.float32)
            for layer, shape in shapes.items()}
    logits = rng.normal(size=(n, 10))
    acts[roles["output"]] = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    return Run(list(shapes), dict(roles), acts)


def inputs(n):
    return rng.random((n, 32, 32, 1)).astype(np.float32)


def test_the_fake_shapes_are_the_reference_networks():
    from lib.model import layer_names, reference

    model = reference(1)
    assert {layer: tuple(model.get_layer(layer).output.shape[1:]) for layer in layer_names(model)} == SHAPES


def test_subject_metrics_per_model_and_layer_and_between_models():
    runs = {"dummy": {0: fake_run(2, 1.0, 0.0)}, "benchmark": {0: fake_run(2, 1.0, 1.0)}}
    images = inputs(2)
    metrics = subjects_metrics(["frog", "photo"], np.array([6, -1]), images, runs, bins=20)
    frog = metrics["frog"]
    assert set(frog) == {"label", "input", "models", "pairs"} and frog["label"] == "frog"
    for model in runs:
        for layer in SHAPES:
            assert MEASURES <= set(frog["models"][model]["layers"][layer])
            assert frog["models"][model]["layers"][layer]["entropy_bits_seed_sd"] == 0
            assert 0 <= frog["models"][model]["layers"][layer]["entropy_bits"] <= np.log2(21) + 1e-9
    assert (frog["models"]["benchmark"]["layers"]["conv2d_1"]["zero_fraction"]
            > frog["models"]["dummy"]["layers"]["conv2d_1"]["zero_fraction"])
    assert frog["models"]["dummy"]["layers"]["flatten_1"]["channel_corr"] is None
    assert set(frog["pairs"]) == {"dummy_vs_benchmark"}
    js = frog["pairs"]["dummy_vs_benchmark"]["js_bits"]
    assert all(0 < js[layer] <= 1 for layer in SHAPES)
    out = frog["models"]["dummy"]["output"]
    probabilities = runs["dummy"][0].acts["dense_2"][0]
    assert out["predicted"] == CLASSES[int(probabilities.argmax())]
    assert out["p_label"] == pytest.approx(float(probabilities[6]), abs=1e-6)
    assert out["accuracy"] == float(probabilities.argmax() == 6)
    assert 0 <= out["softmax_entropy_bits"] <= np.log2(10)
    frog_view = layer_view(images[:1], images[:1], 20)
    assert {m: frog["input"][m] for m in INPUT_MEASURES} == pytest.approx(
        {m: float(LAYER_MEASURES[m](frog_view)[0]) for m in INPUT_MEASURES}, abs=1e-6)  # the layers' estimators
    photo = metrics["photo"]["models"]["dummy"]["output"]
    assert metrics["photo"]["label"] is None and photo["p_label"] is None and photo["accuracy"] is None


def test_a_subjects_numbers_do_not_depend_on_the_other_subjects():
    runs = {"a": {0: fake_run(3, 1.0, 0.0)}, "b": {0: fake_run(3, 2.0, 0.5)}}
    images, labels = inputs(3), np.array([6, 2, 3])
    together = subjects_metrics(["x", "y", "z"], labels, images, runs, bins=10)
    alone = subjects_metrics(["y"], labels[1:2], images[1:2], {m: {0: r[0].rows(slice(1, 2))} for m, r in runs.items()},
                             bins=10)
    assert together["y"] == alone["y"]


def test_identical_models_have_zero_divergence():
    same = fake_run(1, 1.0, 0.5)
    metrics = subjects_metrics(["frog"], np.array([6]), inputs(1), {"a": {0: same}, "b": {0: same}}, bins=10)
    assert all(value == 0 for value in metrics["frog"]["pairs"]["a_vs_b"]["js_bits"].values())


def test_per_image_histograms_match_one_at_a_time():
    values = np.maximum(rng.normal(size=(7, 4, 4, 3)), 0)
    edges = shared_edges([values], 9)
    together = per_image_histograms_of(per_image_bin(values, edges), len(edges))
    assert np.array_equal(together, np.stack([layer_histogram(v, edges) for v in values]))
    assert np.allclose(per_image_entropy(together), [entropy_bits(c) for c in together])


def probe(runs, n, bins=10, resamples=200):
    labels = np.arange(n) % 10
    return probe_metrics(runs, inputs(n), labels, bins=bins, resamples=resamples, seed=0)


def test_probe_metrics_with_intervals_accuracy_and_cka():
    n = 40
    labels = np.arange(n) % 10
    a, b = fake_run(n, 1.0, 0.0), fake_run(n, 2.0, 0.5)
    a.acts["dense_2"] = np.eye(10, dtype=np.float32)[labels]  # always right
    metrics, cka = probe({"a": {0: a}, "b": {0: b}}, n)
    assert set(metrics) == {"seeds", "input", "models", "pairs"} and metrics["seeds"] == 1
    layer = metrics["models"]["a"]["layers"]["conv2d_3"]
    for field in MEASURES:
        assert layer[f"{field}_low"] <= layer[field] <= layer[f"{field}_high"]
    assert metrics["input"]["entropy_scaled_bits_low"] <= metrics["input"]["entropy_scaled_bits"] <= np.log2(10 + 1)
    assert metrics["models"]["a"]["roles"] == ROLES
    assert metrics["models"]["a"]["output"]["accuracy"] == 1.0
    assert metrics["models"]["a"]["output"]["p_label"] == 1.0
    assert metrics["models"]["a"]["output"]["softmax_entropy_bits"] == 0
    assert cka["a_vs_b"].shape == (len(SHAPES), len(SHAPES))
    assert set(metrics["pairs"]["a_vs_b"]["cka"]) == set(SHAPES) | {f"{layer}_seed_sd" for layer in SHAPES}
    self_cka, _ = probe({"a": {0: a}, "b": {0: a}}, n)
    assert all(self_cka["pairs"]["a_vs_b"]["cka"][layer] == pytest.approx(1.0) for layer in SHAPES)


def test_a_seed_without_a_cka_leaves_the_matrix_and_the_metrics_with_the_other_seeds_value():
    n, small = 30, {"conv2d_1": (4, 4, 2), "dense_1": (2, 2, 3), "dense_2": (10,)}
    roles = {"first_conv": "conv2d_1", "last_hidden": "dense_1", "output": "dense_2"}
    a = {seed: fake_run(n, 1.0, 0.0, small, roles) for seed in (0, 1)}
    b = {seed: fake_run(n, 1.0, 0.0, small, roles) for seed in (0, 1)}
    b[0].acts["dense_1"][:] = 0  # a dead layer: no CKA with it in seed 0
    metrics, matrices = probe({"a": a, "b": b}, n)
    row, column = a[1].layers.index("dense_1"), b[1].layers.index("dense_1")
    alone, _ = probe({"a": {1: a[1]}, "b": {1: b[1]}}, n)
    assert matrices["a_vs_b"][row, column] == pytest.approx(alone["pairs"]["a_vs_b"]["cka"]["dense_1"], abs=1e-6)
    assert metrics["pairs"]["a_vs_b"]["cka"]["dense_1"] == alone["pairs"]["a_vs_b"]["cka"]["dense_1"]
    assert not np.isnan(matrices["a_vs_b"]).any()


def test_pair_differences_are_a_minus_b_with_seed_aware_intervals():
    n = 60
    a = {seed: fake_run(n, 1.0, 0.0) for seed in range(3)}
    b = {seed: fake_run(n, 2.0, 0.5) for seed in range(3)}
    metrics, _ = probe({"a": a, "b": b}, n)
    assert metrics["seeds"] == 3
    difference = metrics["pairs"]["a_vs_b"]["difference"]
    assert set(difference["layers"]) == set(ROLES.values()) and set(difference["output"]) >= {"accuracy_low"}
    for layer, measures in difference["layers"].items():
        for measure in MEASURES:
            if measures[measure] is None:
                continue
            expected = metrics["models"]["a"]["layers"][layer][measure] - metrics["models"]["b"]["layers"][layer][measure]
            assert measures[measure] == pytest.approx(expected, abs=2e-6)
            assert measures[f"{measure}_low"] <= measures[measure] <= measures[f"{measure}_high"]
    assert difference["layers"][ROLES["last_hidden"]]["zero_fraction_high"] < 0  # b is sparser, clearly
    same, _ = probe({"a": a, "b": a}, n)
    self_difference = same["pairs"]["a_vs_b"]["difference"]["layers"][ROLES["last_hidden"]]
    assert all(self_difference[m] == 0 and self_difference[f"{m}_low"] < 0 < self_difference[f"{m}_high"]
               for m in ("zero_fraction", "mean"))  # seeds are drawn for each side: the interval spans 0
    narrowing = metrics["models"]["a"]["narrowing"]
    hidden = metrics["models"]["a"]["layers"][ROLES["last_hidden"]]["entropy_scaled_bits"]
    assert narrowing["entropy_drop_bits"] == pytest.approx(metrics["input"]["entropy_scaled_bits"] - hidden,
                                                                 abs=2e-6)
    assert narrowing["entropy_drop_bits_low"] <= narrowing["entropy_drop_bits"] <= narrowing["entropy_drop_bits_high"]


def test_a_models_numbers_do_not_depend_on_the_other_models():
    a, b, c = fake_run(20, 1.0, 0.0), fake_run(20, 3.0, 0.5), fake_run(20, 0.2, 0.0)
    images, labels = inputs(20), np.arange(20) % 10
    alone, _ = probe_metrics({"a": {0: a}}, images, labels, bins=10, resamples=100, seed=0)
    with_b, _ = probe_metrics({"a": {0: a}, "b": {0: b}}, images, labels, bins=10, resamples=100, seed=0)
    with_c, _ = probe_metrics({"c": {0: c}, "a": {0: a}}, images, labels, bins=10, resamples=100, seed=0)
    assert alone["models"]["a"] == with_b["models"]["a"] == with_c["models"]["a"]
    one = {m: {0: r.rows(slice(0, 1))} for m, r in (("a", a), ("b", b))}
    subject_alone = subjects_metrics(["s"], labels[:1], images[:1], {"a": one["a"]}, bins=10)
    subject_with_b = subjects_metrics(["s"], labels[:1], images[:1], one, bins=10)
    assert subject_alone["s"]["models"]["a"] == subject_with_b["s"]["models"]["a"]


def test_the_input_is_measured_by_the_layers_estimators_with_known_answers():
    image = np.repeat([0.0, 0.25, 0.5, 1.0], 256).reshape(1, 32, 32, 1)  # four values, equally often
    for bins in (4, 10, 50):
        measured = input_measures(image, bins)
        assert measured["entropy_bits"][0] == pytest.approx(2.0) and measured["entropy_scaled_bits"][0] == pytest.approx(2)
        assert measured["mean"][0] == pytest.approx(0.4375)
    two = np.stack([image[0], np.full((32, 32, 1), 0.5)])  # a flat grey image: one value, no uncertainty
    assert input_measures(two, 10)["entropy_scaled_bits"].tolist() == pytest.approx([2.0, 0.0])


def test_entropies_compare_between_models_on_the_same_bins():
    a = fake_run(6, 1.0, 0.0)
    b = Run(a.layers, a.roles, {layer: values * 2 for layer, values in a.acts.items()})
    metrics, _ = probe({"a": {0: a}, "b": {0: b}}, 6)
    last = {m: metrics["models"][m]["layers"]["dense_1"] for m in ("a", "b")}
    assert last["b"]["entropy_bits"] > last["a"]["entropy_bits"] + 0.3
    assert last["b"]["entropy_scaled_bits"] == pytest.approx(last["a"]["entropy_scaled_bits"], abs=1e-5)


NO_DROPOUT = {layer: shape for layer, shape in SHAPES.items() if layer != "dropout_1"}
OTHER = {"stem": (30, 30, 4), "body": (28, 28, 4), "pooled": (4,), "probs": (10,)}
OTHER_ROLES = {"first_conv": "stem", "last_hidden": "pooled", "output": "probs"}


def test_networks_of_other_architectures_are_compared_on_the_layers_they_share_and_by_role():
    ref, ablation, other = fake_run(12, 1, 0), fake_run(12, 1, 0, NO_DROPOUT), fake_run(12, 1, 0, OTHER, OTHER_ROLES)
    assert [key for key, _, _ in matched_layers(ref, ablation)] == list(NO_DROPOUT)
    assert matched_layers(ref, other) == [("first_conv", "conv2d_1", "stem"), ("last_hidden", "dense_1", "pooled"),
                                          ("output", "dense_2", "probs")]
    runs = {"ref": {0: ref}, "ablation": {0: ablation}, "other": {0: other}}
    metrics, cka = probe(runs, 12)
    assert set(metrics["models"]["other"]["layers"]) == set(OTHER)
    assert cka["ref_vs_other"].shape == (len(SHAPES), len(OTHER))
    assert set(metrics["pairs"]["ref_vs_other"]["cka"]) == {"first_conv", "last_hidden", "output",
                                                            "first_conv_seed_sd", "last_hidden_seed_sd",
                                                            "output_seed_sd"}
    assert metrics["pairs"]["ref_vs_other"]["cka"]["last_hidden"] == pytest.approx(cka["ref_vs_other"][8, 2], abs=1e-6)
    subjects = subjects_metrics(["frog"], np.array([6]), inputs(12)[:1], {m: {0: r[0].rows(slice(0, 1))}
                                                                           for m, r in runs.items()}, bins=10)
    assert set(tables.numbers(subjects["frog"]["pairs"]["ablation_vs_other"]["js_bits"])) == {
        "first_conv", "last_hidden", "output"}
    rows = tables.probe_layers(metrics, {m: r[0].layers for m, r in runs.items()})
    assert [row["layer"] for row in rows if row["model"] == "other"] == list(OTHER)


def test_a_measure_added_to_the_registry_appears_in_every_metrics_file_and_table_and_moves_nothing(monkeypatch):
    run = fake_run(10, 1.0, 0.0)
    runs = {"a": {0: run}, "b": {0: fake_run(10, 1.0, 0.0)}}
    images, labels = inputs(10), np.arange(10) % 10
    before, _ = probe_metrics(runs, images, labels, bins=10, resamples=200, seed=0)
    monkeypatch.setitem(measures.LAYER_MEASURES, "max_value",
                        lambda view: view.values.reshape(len(view.values), -1).max(axis=1).astype(np.float64))
    metrics, _ = probe_metrics(runs, images, labels, bins=10, resamples=200, seed=0)
    after = {key: value for key, value in metrics["models"]["a"]["layers"]["dense_1"].items() if "max_value" not in key}
    assert after == before["models"]["a"]["layers"]["dense_1"]  # intervals included: each measure has its own stream
    assert metrics["models"]["a"]["layers"]["dense_1"]["max_value"] == pytest.approx(
        float(run.acts["dense_1"].reshape(10, -1).max(axis=1).mean()), abs=1e-6)
    assert "max_value_high" in metrics["models"]["a"]["layers"]["dense_1"]
    subjects = subjects_metrics(["frog"], np.array([6]), inputs(1), {m: {0: r[0].rows(slice(0, 1))}
                                                                      for m, r in runs.items()}, bins=10)
    assert subjects["frog"]["models"]["a"]["layers"]["dense_1"]["max_value"] == pytest.approx(
        float(run.acts["dense_1"][0].max()), abs=1e-6)
    assert "max_value" in tables.subject_layers(subjects, {"a": run.layers, "b": run.layers})[0]


def test_pairs_are_unordered_and_in_params_order():
    assert list(pairs(["dummy", "benchmark", "tiny"])) == ["dummy_vs_benchmark", "dummy_vs_tiny", "benchmark_vs_tiny"]
    assert pairs(["solo"]) == {}


def test_over_seeds_means_numbers_with_their_spread_and_votes_on_labels():
    summary = over_seeds([{"x": 1.0, "p": "frog", "c": None, "n": float("nan"), "d": {"y": 2}},
                          {"x": 3.0, "p": "cat", "c": None, "n": float("nan"), "d": {"y": 4}},
                          {"x": 2.0, "p": "frog", "c": None, "n": float("nan"), "d": {"y": 6}}])
    assert summary["x"] == 2.0 and summary["x_seed_sd"] == pytest.approx(1.0)
    assert summary["p"] == "frog"
    assert summary["c"] is None and summary["n"] is None
    assert summary["d"] == {"y": 4.0, "y_seed_sd": pytest.approx(2.0)}


def test_seeds_are_summarised_over_images_and_across_seeds():
    n = 30
    labels = np.arange(n) % 10
    right, wrong = fake_run(n, 1.0, 0.0), fake_run(n, 1.0, 0.0)
    right.acts["dense_2"] = np.eye(10, dtype=np.float32)[labels]
    wrong.acts["dense_2"] = np.eye(10, dtype=np.float32)[(labels + 1) % 10]
    metrics, _ = probe({"m": {0: right, 1: wrong}, "n": {0: right, 1: right}}, n, resamples=100)
    assert metrics["models"]["m"]["output"]["accuracy"] == 0.5
    assert metrics["models"]["m"]["output"]["accuracy_seed_sd"] == pytest.approx(np.std([1, 0], ddof=1))
    assert metrics["models"]["n"]["output"]["accuracy_seed_sd"] == 0


def test_size_sweep_orders_by_size_compares_with_the_largest_model_and_leaves_imports_out():
    runs = {name: {0: fake_run(20, 1.0, 0.0)} for name in ("big", "small", "mid", "theirs")}
    models = {"big": {"train_size": 500}, "small": {"train_size": 50}, "mid": {"train_size": 200},
              "theirs": {"keras": "imported/theirs.keras", "roles": {}}}
    metrics, cka = probe(runs, 20, resamples=100)
    accuracies = {"big": [{"test_accuracy": 0.7}], "small": [{"test_accuracy": 0.5}], "mid": [{"test_accuracy": 0.6}],
                  "theirs": [{"test_accuracy": 0.9}]}
    rows, cka_rows = size_sweep(models, accuracies, metrics, cka)
    assert [row["model"] for row in rows] == ["small", "mid", "big"]
    assert [row["test_accuracy"] for row in rows] == [0.5, 0.6, 0.7]
    assert {"last_hidden_entropy_bits", "last_hidden_zero_fraction", "softmax_entropy_bits"} <= set(rows[0])
    assert rows[0]["last_hidden_entropy_bits"] == metrics["models"]["small"]["layers"]["dense_1"]["entropy_bits"]
    assert rows[0]["last_hidden_mean"] == metrics["models"]["small"]["layers"]["dense_1"]["mean"]
    assert rows[0]["last_hidden_zero_fraction_seed_sd"] == 0.0  # one seed
    assert len(cka_rows) == 3 * len(SHAPES)
    assert all(row["cka_to_largest"] == 1.0 for row in cka_rows if row["model"] == "big")
    mid_conv = next(r for r in cka_rows if r["model"] == "mid" and r["layer"] == "conv2d_1")
    assert mid_conv["cka_to_largest"] == pytest.approx(cka["big_vs_mid"][0, 0], abs=1e-6)


def test_a_layer_repeating_an_earlier_one_is_measured_once_with_the_same_numbers():
    from lib.analysis import copies, layer_measures, measure_images

    run = fake_run(6, 1.0, 0.5)
    run.acts["dropout_1"] = run.acts["dense_1"].copy()  # dropout at inference
    assert copies(run) == {"dropout_1": "dense_1"}
    x, labels = inputs(6), np.arange(6)
    found = measure_images(run, x, 10, labels)
    alone = layer_measures(run.acts["dropout_1"], x, 10)
    for layer in ("dense_1", "dropout_1"):
        assert all(np.array_equal(found["layers"][layer][m], alone[m], equal_nan=True) for m in alone)
    assert not np.array_equal(found["layers"]["conv2d_1"]["mean"], found["layers"]["conv2d_2"]["mean"])
    assert list(found["layers"]) == run.layers


def test_an_images_numbers_do_not_depend_on_how_many_are_measured_together(monkeypatch):
    import lib.analysis as analysis

    run, x, labels = fake_run(40, 2.0, 0.5), inputs(40), np.arange(40) % 10
    together = analysis.measure_images(run, x, 50, labels)
    monkeypatch.setattr(analysis, "IMAGES_AT_ONCE", 3)
    apart = analysis.measure_images(run, x, 50, labels)
    for layer, measures in together["layers"].items():
        assert all(np.array_equal(v, apart["layers"][layer][m], equal_nan=True) for m, v in measures.items())
