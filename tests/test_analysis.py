import numpy as np
import pytest

from lib.analysis import (frog_metrics, over_seeds, pairs, per_image_entropy, per_image_histograms, probe_metrics,
                          size_sweep)
from lib.cifar import CLASSES
from lib.measures import entropy_bits, layer_histogram, shared_edges
from lib.model import LAYERS, reference_cnn

rng = np.random.default_rng(0)
SHAPES = {"conv2d_1": (32, 32, 16), "conv2d_2": (32, 32, 16), "pool_1": (16, 16, 16), "conv2d_3": (16, 16, 16),
          "conv2d_4": (16, 16, 16), "pool_2": (8, 8, 16), "conv2d_5": (8, 8, 16), "conv2d_6": (8, 8, 16),
          "dense_1": (8, 8, 64), "dropout_1": (8, 8, 64), "flatten_1": (4096,), "dense_2": (10,)}


def fake_activations(n, scale, sparsity):
    acts = {}
    for layer, shape in SHAPES.items():
        values = np.maximum(rng.normal(scale=scale, size=(n, *shape)) - sparsity, 0).astype(np.float32)
        acts[layer] = values
    acts["input"] = rng.random((n, 32, 32, 1)).astype(np.float32)
    logits = rng.normal(size=(n, 10))
    acts["dense_2"] = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    return acts


def test_the_fake_shapes_are_the_models():
    model = reference_cnn(1)
    assert {layer: tuple(model.get_layer(layer).output.shape[1:]) for layer in LAYERS} == SHAPES


def test_frog_metrics_per_model_and_layer_and_between_models():
    acts = {"dummy": fake_activations(1, 1.0, 0.0), "benchmark": fake_activations(1, 1.0, 1.0)}
    frog_input = rng.random((1, 32, 32, 1))
    metrics, histograms = frog_metrics(frog_input, {m: {0: a} for m, a in acts.items()}, bins=20)
    for model in acts:
        for layer in LAYERS:
            assert {"entropy_bits", "zero_fraction", "mean", "channel_corr", "input_corr"} <= set(metrics[model][layer])
            assert metrics[model][layer]["entropy_bits_seed_sd"] == 0
            assert 0 <= metrics[model][layer]["entropy_bits"] <= np.log2(21) + 1e-9
    assert metrics["benchmark"]["conv2d_1"]["zero_fraction"] > metrics["dummy"]["conv2d_1"]["zero_fraction"]
    assert metrics["dummy"]["flatten_1"]["channel_corr"] is None
    assert set(metrics["js_bits"]) == {"dummy_vs_benchmark"}
    assert all(0 < metrics["js_bits"]["dummy_vs_benchmark"][layer] <= 1 for layer in LAYERS)
    out = metrics["dummy"]["output"]
    assert out["predicted"] in CLASSES and 0 <= out["p_frog"] <= 1
    assert 0 <= out["softmax_entropy_bits"] <= np.log2(10)
    assert metrics["input"]["entropy_bits"] == pytest.approx(entropy_bits(histograms["pixel_counts"]), abs=1e-6)
    edges = histograms["edges"]["dense_1"]
    assert np.array_equal(edges, shared_edges([acts["dummy"]["dense_1"], acts["benchmark"]["dense_1"]], 20))
    assert len(histograms["counts"]["dummy"]["dense_1"]) == len(histograms["counts"]["benchmark"]["dense_1"]) == 21


def test_identical_models_have_zero_divergence():
    same = fake_activations(1, 1.0, 0.5)
    metrics, _ = frog_metrics(rng.random((1, 32, 32, 1)), {"a": {0: same}, "b": {0: same}}, bins=10)
    assert all(metrics["js_bits"]["a_vs_b"][layer] == 0 for layer in LAYERS)


def test_per_image_histograms_match_one_at_a_time():
    values = np.maximum(rng.normal(size=(7, 4, 4, 3)), 0)
    edges = shared_edges([values], 9)
    together = per_image_histograms(values, edges)
    assert np.array_equal(together, np.stack([layer_histogram(v, edges) for v in values]))
    assert np.allclose(per_image_entropy(together), [entropy_bits(c) for c in together])


def test_probe_metrics_with_intervals_accuracy_and_cka():
    n = 40
    labels = np.arange(n) % 10
    a, b = fake_activations(n, 1.0, 0.0), fake_activations(n, 2.0, 0.5)
    a["dense_2"] = np.eye(10, dtype=np.float32)[labels]  # always right
    metrics, cka = probe_metrics({"a": {0: a}, "b": {0: b}}, labels, bins=10, resamples=200, seed=0)
    layer = metrics["a"]["conv2d_3"]
    for field in ("entropy_bits", "zero_fraction", "mean", "channel_corr", "input_corr"):
        assert layer[f"{field}_low"] <= layer[field] <= layer[f"{field}_high"]
    assert metrics["input"]["entropy_bits_low"] <= metrics["input"]["entropy_bits"] <= np.log2(10)
    assert metrics["a"]["output"]["accuracy"] == 1.0
    assert metrics["a"]["output"]["softmax_entropy_bits"] == 0
    assert cka["a_vs_b"].shape == (len(LAYERS), len(LAYERS))
    assert set(metrics["cka"]["a_vs_b"]) == set(LAYERS) | {f"{layer}_seed_sd" for layer in LAYERS}
    self_cka, _ = probe_metrics({"a": {0: a}, "b": {0: a}}, labels, bins=10, resamples=200, seed=0)
    assert all(self_cka["cka"]["a_vs_b"][layer] == pytest.approx(1.0) for layer in LAYERS)


def test_probe_metrics_do_not_depend_on_the_other_models():
    n = 20
    labels = np.arange(n) % 10
    a, b, c = (fake_activations(n, 1.0, 0.0) for _ in range(3))
    with_b, _ = probe_metrics({"a": {0: a}, "b": {0: b}}, labels, bins=10, resamples=100, seed=0)
    with_c, _ = probe_metrics({"a": {0: a}, "c": {0: c}}, labels, bins=10, resamples=100, seed=0)
    assert with_b["a"]["output"] == with_c["a"]["output"]
    assert with_b["a"]["conv2d_1"]["zero_fraction"] == with_c["a"]["conv2d_1"]["zero_fraction"]


def test_pairs_are_unordered_and_in_params_order():
    assert list(pairs(["dummy", "benchmark", "tiny"])) == ["dummy_vs_benchmark", "dummy_vs_tiny", "benchmark_vs_tiny"]
    assert pairs(["solo"]) == {}


def test_over_seeds_means_numbers_with_their_spread_and_votes_on_labels():
    summary = over_seeds([{"x": 1.0, "p": "frog", "c": None, "d": {"y": 2}},
                          {"x": 3.0, "p": "cat", "c": None, "d": {"y": 4}},
                          {"x": 2.0, "p": "frog", "c": None, "d": {"y": 6}}])
    assert summary["x"] == 2.0 and summary["x_seed_sd"] == pytest.approx(1.0)
    assert summary["p"] == "frog"
    assert summary["c"] is None
    assert summary["d"] == {"y": 4.0, "y_seed_sd": pytest.approx(2.0)}


def test_seeds_are_summarised_over_images_and_across_seeds():
    n = 30
    labels = np.arange(n) % 10
    right, wrong = fake_activations(n, 1.0, 0.0), fake_activations(n, 1.0, 0.0)
    right["dense_2"] = np.eye(10, dtype=np.float32)[labels]
    wrong["dense_2"] = np.eye(10, dtype=np.float32)[(labels + 1) % 10]
    metrics, _ = probe_metrics({"m": {0: right, 1: wrong}, "n": {0: right, 1: right}}, labels, bins=10,
                               resamples=100, seed=0)
    assert metrics["m"]["output"]["accuracy"] == 0.5
    assert metrics["m"]["output"]["accuracy_seed_sd"] == pytest.approx(np.std([1, 0], ddof=1))
    assert metrics["n"]["output"]["accuracy_seed_sd"] == 0


def test_size_sweep_orders_by_size_and_compares_every_layer_with_the_largest_model():
    n = 20
    labels = np.arange(n) % 10
    runs = {name: {0: fake_activations(n, 1.0, 0.0)} for name in ("big", "small", "mid")}
    models = {"big": {"train_size": 500}, "small": {"train_size": 50}, "mid": {"train_size": 200}}
    probe, cka = probe_metrics(runs, labels, bins=10, resamples=100, seed=0)
    accuracies = {"big": [{"test_accuracy": 0.7}], "small": [{"test_accuracy": 0.5}], "mid": [{"test_accuracy": 0.6}]}
    rows, cka_rows = size_sweep(models, accuracies, probe, cka)
    assert [row["model"] for row in rows] == ["small", "mid", "big"]
    assert [row["test_accuracy"] for row in rows] == [0.5, 0.6, 0.7]
    assert {"dense_1_entropy_bits", "dense_1_zero_fraction", "softmax_entropy_bits"} <= set(rows[0])
    assert len(cka_rows) == 3 * len(LAYERS)
    assert all(row["cka_to_largest"] == 1.0 for row in cka_rows if row["model"] == "big")
    mid_conv = next(r for r in cka_rows if r["model"] == "mid" and r["layer"] == "conv2d_1")
    assert mid_conv["cka_to_largest"] == pytest.approx(cka["big_vs_mid"][0, 0])
