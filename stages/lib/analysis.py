"""From every model's activations to the metrics of metrics/frog.json and metrics/probe.json.

`activations` everywhere is {model: {layer: (N, ...) array}}, N = 1 for the frog.
Layer histograms share their bin edges across models (per layer), so they can be compared.
"""

from itertools import combinations

import numpy as np

from lib.cifar import CLASSES, FROG
from lib.measures import (bootstrap_ci, cka_of_grams, centered_gram, channel_corr, entropy_bits, js_bits,
                          layer_histogram, shared_edges, zero_fraction)
from lib.model import LAYERS

OUTPUT = LAYERS[-1]


def pairs(models):
    """Every unordered pair of models, named "a_vs_b" in params order."""
    return {f"{a}_vs_{b}": (a, b) for a, b in combinations(models, 2)}


def round_floats(node, digits=6):
    """Numbers rounded for readable metrics files (and diffs); NaN and None become None."""
    if isinstance(node, dict):
        return {key: round_floats(value, digits) for key, value in node.items()}
    if isinstance(node, float):
        return None if np.isnan(node) else round(node, digits)
    return node


def layer_edges(activations, bins):
    """{layer: bin edges shared by every model's values of that layer}."""
    return {layer: shared_edges([acts[layer] for acts in activations.values()], bins) for layer in LAYERS}


def softmax_summary(probabilities):
    """Entropy in bits, predicted class and probability of frog, for one image's softmax output."""
    probabilities = np.asarray(probabilities, np.float64).ravel()
    return {"softmax_entropy_bits": entropy_bits(probabilities), "predicted": CLASSES[int(probabilities.argmax())],
            "p_frog": float(probabilities[FROG])}


def frog_metrics(frog_input, activations, bins):
    """Per layer and model: entropy, zero fraction, mean, channel correlation; JS between models;
    the input's pixel entropy; the softmax output. Returns (metrics, histograms)."""
    edges = layer_edges(activations, bins)
    histograms = {model: {layer: layer_histogram(acts[layer], edges[layer]) for layer in LAYERS}
                  for model, acts in activations.items()}
    pixel_edges = np.linspace(0, 1, bins + 1)
    pixels, _ = np.histogram(frog_input, bins=pixel_edges)
    metrics = {"input": {"entropy_bits": entropy_bits(pixels), "mean": float(frog_input.mean())}}
    for model, acts in activations.items():
        metrics[model] = {
            layer: {"entropy_bits": entropy_bits(histograms[model][layer]),
                    "zero_fraction": zero_fraction(acts[layer]),
                    "mean": float(acts[layer].mean()),
                    "channel_corr": channel_corr(acts[layer][0])}
            for layer in LAYERS}
        metrics[model]["output"] = softmax_summary(acts[OUTPUT][0])
    metrics["js_bits"] = {name: {layer: js_bits(histograms[a][layer], histograms[b][layer]) for layer in LAYERS}
                          for name, (a, b) in pairs(activations).items()}
    return round_floats(metrics), {"edges": edges, "counts": histograms, "pixel_edges": pixel_edges,
                                   "pixel_counts": pixels}


def per_image_histograms(values, edges):
    """(N, bins + 1) counts, one layer_histogram per image, computed in one pass."""
    flat = values.reshape(len(values), -1)
    bins = len(edges) - 1
    index = np.clip(np.searchsorted(edges, flat, side="right") - 1, 0, bins - 1) + 1
    index[flat == 0] = 0
    offsets = (np.arange(len(flat)) * (bins + 1))[:, None]
    return np.bincount((index + offsets).ravel(), minlength=len(flat) * (bins + 1)).reshape(len(flat), bins + 1)


def per_image_entropy(counts):
    p = counts / counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(p), 0.0)
    return terms.sum(axis=1)


def per_image_channel_corr(values):
    return np.array([np.nan if (c := channel_corr(image)) is None else c for image in values])


def interval(name, values, rng, resamples):
    mean, low, high = bootstrap_ci(values, rng, resamples)
    return {name: mean, f"{name}_low": low, f"{name}_high": high}


def probe_metrics(activations, labels, bins, resamples, seed):
    """Per layer and model, the frog's measures averaged over the probe images with 95 % bootstrap
    intervals; accuracy; softmax entropy; linear CKA between every pair of layers of every pair of
    models. Returns (metrics, cka) with cka {pair: (layers x layers) matrix}."""
    edges = layer_edges(activations, bins)
    metrics = {}
    for model, acts in activations.items():
        rng = np.random.default_rng(seed)
        metrics[model] = {}
        for layer in LAYERS:
            values = acts[layer]
            flat = values.reshape(len(values), -1)
            metrics[model][layer] = {
                **interval("entropy_bits", per_image_entropy(per_image_histograms(values, edges[layer])), rng,
                           resamples),
                **interval("zero_fraction", (flat == 0).mean(axis=1), rng, resamples),
                **interval("mean", flat.mean(axis=1, dtype=np.float64), rng, resamples),
                **interval("channel_corr", per_image_channel_corr(values), rng, resamples)}
        probabilities = acts[OUTPUT].astype(np.float64)
        metrics[model]["output"] = {
            **interval("accuracy", (probabilities.argmax(axis=1) == labels).astype(float), rng, resamples),
            **interval("softmax_entropy_bits", per_image_entropy(probabilities), rng, resamples),
            **interval("p_true_class", probabilities[np.arange(len(labels)), labels], rng, resamples)}
    cka = cka_matrices(activations)
    metrics["cka"] = {name: {layer: float(matrix[i, i]) for i, layer in enumerate(LAYERS)}
                      for name, matrix in cka.items()}
    return round_floats(metrics), cka


def cka_matrices(activations):
    """{"a_vs_b": matrix[i, j] = CKA(layer i of a, layer j of b)} over the probe images."""
    grams = {model: [centered_gram(acts[layer]) for layer in LAYERS] for model, acts in activations.items()}
    return {name: np.array([[cka_of_grams(k, l) for l in grams[b]] for k in grams[a]])
            for name, (a, b) in pairs(activations).items()}
