import numpy as np
import pytest

from lib.analysis import frog_metrics, pairs, per_image_entropy, per_image_histograms, probe_metrics
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
    logits = rng.normal(size=(n, 10))
    acts["dense_2"] = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    return acts


def test_the_fake_shapes_are_the_models():
    model = reference_cnn(1)
    assert {layer: tuple(model.get_layer(layer).output.shape[1:]) for layer in LAYERS} == SHAPES


def test_frog_metrics_per_model_and_layer_and_between_models():
    acts = {"dummy": fake_activations(1, 1.0, 0.0), "benchmark": fake_activations(1, 1.0, 1.0)}
    frog_input = rng.random((1, 32, 32, 1))
    metrics, histograms = frog_metrics(frog_input, acts, bins=20)
    for model in acts:
        for layer in LAYERS:
            assert set(metrics[model][layer]) == {"entropy_bits", "zero_fraction", "mean", "channel_corr"}
            assert 0 <= metrics[model][layer]["entropy_bits"] <= np.log2(21) + 1e-9
    assert metrics["benchmark"]["conv2d_1"]["zero_fraction"] > metrics["dummy"]["conv2d_1"]["zero_fraction"]
    assert metrics["dummy"]["flatten_1"]["channel_corr"] is None
    assert set(metrics["js_bits"]) == {"dummy_vs_benchmark"}
    assert all(0 < v <= 1 for v in metrics["js_bits"]["dummy_vs_benchmark"].values())
    out = metrics["dummy"]["output"]
    assert out["predicted"] in CLASSES and 0 <= out["p_frog"] <= 1
    assert 0 <= out["softmax_entropy_bits"] <= np.log2(10)
    assert metrics["input"]["entropy_bits"] == pytest.approx(entropy_bits(histograms["pixel_counts"]), abs=1e-6)
    edges = histograms["edges"]["dense_1"]
    assert np.array_equal(edges, shared_edges([acts["dummy"]["dense_1"], acts["benchmark"]["dense_1"]], 20))
    assert len(histograms["counts"]["dummy"]["dense_1"]) == len(histograms["counts"]["benchmark"]["dense_1"]) == 21


def test_identical_models_have_zero_divergence():
    same = fake_activations(1, 1.0, 0.5)
    metrics, _ = frog_metrics(rng.random((1, 32, 32, 1)), {"a": same, "b": same}, bins=10)
    assert all(v == 0 for v in metrics["js_bits"]["a_vs_b"].values())


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
    metrics, cka = probe_metrics({"a": a, "b": b}, labels, bins=10, resamples=200, seed=0)
    layer = metrics["a"]["conv2d_3"]
    for field in ("entropy_bits", "zero_fraction", "mean", "channel_corr"):
        assert layer[f"{field}_low"] <= layer[field] <= layer[f"{field}_high"]
    assert metrics["a"]["output"]["accuracy"] == 1.0
    assert metrics["a"]["output"]["softmax_entropy_bits"] == 0
    assert cka["a_vs_b"].shape == (len(LAYERS), len(LAYERS))
    assert set(metrics["cka"]["a_vs_b"]) == set(LAYERS)
    self_cka, _ = probe_metrics({"a": a, "b": a}, labels, bins=10, resamples=200, seed=0)
    assert all(v == pytest.approx(1.0) for v in self_cka["cka"]["a_vs_b"].values())


def test_probe_metrics_do_not_depend_on_the_other_models():
    n = 20
    labels = np.arange(n) % 10
    a, b, c = (fake_activations(n, 1.0, 0.0) for _ in range(3))
    with_b, _ = probe_metrics({"a": a, "b": b}, labels, bins=10, resamples=100, seed=0)
    with_c, _ = probe_metrics({"a": a, "c": c}, labels, bins=10, resamples=100, seed=0)
    assert with_b["a"]["output"] == with_c["a"]["output"]
    assert with_b["a"]["conv2d_1"]["zero_fraction"] == with_c["a"]["conv2d_1"]["zero_fraction"]


def test_pairs_are_unordered_and_in_params_order():
    assert list(pairs(["dummy", "benchmark", "tiny"])) == ["dummy_vs_benchmark", "dummy_vs_tiny", "benchmark_vs_tiny"]
    assert pairs(["solo"]) == {}
