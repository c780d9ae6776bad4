"""From every training run's activations to the metrics of metrics/frog.json and metrics/probe.json.

`runs` everywhere is {model: {seed: {layer: (N, ...) array}}}, N = 1 for the frog; every model has
the same seeds. Layer histograms share their bin edges across models and seeds (per layer), so
they can be compared. Each measure is taken per run, then summarised over seeds: the mean, and the
standard deviation across seeds as `<measure>_seed_sd`; over the probe set also a 95 % bootstrap
interval over images (`_low`, `_high`) of the per-image values averaged over seeds.
"""

import warnings
from collections import Counter
from itertools import combinations

import numpy as np

from lib.cifar import CLASSES, FROG
from lib.measures import (bootstrap_ci, cka_of_grams, centered_gram, channel_corr, entropy_bits, input_corr,
                          js_bits, layer_histogram, shared_edges, zero_fraction)
from lib.model import LAYERS

OUTPUT = LAYERS[-1]
LAST = "dense_1"
LAYER_MEASURES = ("entropy_bits", "zero_fraction", "mean", "channel_corr", "input_corr")


def pairs(models):
    """Every unordered pair of models, named "a_vs_b" in params order."""
    return {f"{a}_vs_{b}": (a, b) for a, b in combinations(models, 2)}


def round_floats(node, digits=6):
    """Numbers rounded for readable metrics files (and diffs); NaN becomes None."""
    if isinstance(node, dict):
        return {key: round_floats(value, digits) for key, value in node.items()}
    if isinstance(node, float):
        return None if np.isnan(node) else round(node, digits)
    return node


def over_seeds(results):
    """One summary of per-seed results (same keys): numbers -> mean and `<key>_seed_sd`;
    None where no seed has a number; anything else -> the most common value."""
    summary = {}
    for key, first in results[0].items():
        column = [result[key] for result in results]
        if isinstance(first, dict):
            summary[key] = over_seeds(column)
            continue
        numbers = [v for v in column if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if numbers or all(v is None for v in column):
            summary[key] = float(np.mean(numbers)) if numbers else None
            summary[f"{key}_seed_sd"] = float(np.std(numbers, ddof=1)) if len(numbers) > 1 else 0.0
        else:
            summary[key] = Counter(column).most_common(1)[0][0]
    return summary


def layer_edges(runs, bins):
    """{layer: bin edges shared by every run's values of that layer}."""
    return {layer: shared_edges([acts[layer] for seeds in runs.values() for acts in seeds.values()], bins)
            for layer in LAYERS}


def softmax_summary(probabilities):
    """Entropy in bits, predicted class and probability of frog, for one image's softmax output."""
    probabilities = np.asarray(probabilities, np.float64).ravel()
    return {"softmax_entropy_bits": entropy_bits(probabilities), "predicted": CLASSES[int(probabilities.argmax())],
            "p_frog": float(probabilities[FROG])}


def frog_run(acts, edges):
    """One run's measures for the frog, and its layer histograms."""
    histograms = {layer: layer_histogram(acts[layer], edges[layer]) for layer in LAYERS}
    measures = {layer: {"entropy_bits": entropy_bits(histograms[layer]), "zero_fraction": zero_fraction(acts[layer]),
                        "mean": float(acts[layer].mean()), "channel_corr": channel_corr(acts[layer][0]),
                        "input_corr": input_corr(acts[layer][0], acts["input"][0])}
                for layer in LAYERS}
    measures["output"] = softmax_summary(acts[OUTPUT][0])
    return measures, histograms


def frog_metrics(frog_input, runs, bins):
    """Per model and layer: entropy, zero fraction, mean, channel correlation; per model the softmax
    output; JS divergence between models (same seed); the input's pixel entropy.
    Returns (metrics, histograms of each model's first seed, for the figures)."""
    edges = layer_edges(runs, bins)
    per_run = {model: {seed: frog_run(acts, edges) for seed, acts in seeds.items()} for model, seeds in runs.items()}
    pixel_edges = np.linspace(0, 1, bins + 1)
    pixels, _ = np.histogram(frog_input, bins=pixel_edges)
    metrics = {"input": {"entropy_bits": entropy_bits(pixels), "mean": float(frog_input.mean())}}
    for model, seeds in per_run.items():
        metrics[model] = over_seeds([measures for measures, _ in seeds.values()])
    metrics["js_bits"] = {
        name: over_seeds([{layer: js_bits(per_run[a][seed][1][layer], per_run[b][seed][1][layer]) for layer in LAYERS}
                          for seed in per_run[a]])
        for name, (a, b) in pairs(runs).items()}
    first = {model: next(iter(seeds.values()))[1] for model, seeds in per_run.items()}
    return round_floats(metrics), {"edges": edges, "counts": first, "pixel_edges": pixel_edges,
                                   "pixel_counts": pixels}


def per_image_histograms(values, edges, zeros_apart=True):
    """Counts per image in one pass: (N, bins + 1) as layer_histogram gives (exact zeros first), or
    (N, bins) as numpy.histogram gives when not `zeros_apart`."""
    flat = values.reshape(len(values), -1)
    bins = len(edges) - 1
    index = np.clip(np.searchsorted(edges, flat, side="right") - 1, 0, bins - 1)
    if zeros_apart:
        index += 1
        index[flat == 0] = 0
    width = bins + zeros_apart
    offsets = (np.arange(len(flat)) * width)[:, None]
    return np.bincount((index + offsets).ravel(), minlength=len(flat) * width).reshape(len(flat), width)


def per_image_entropy(counts):
    p = counts / counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(p), 0.0)
    return terms.sum(axis=1)


def per_image(measure, *arrays):
    """measure(...) for each image, None as NaN."""
    return np.array([np.nan if (v := measure(*images)) is None else v for images in zip(*arrays)])


def probe_run(acts, edges, labels):
    """One run's per-image values: {layer or "output": {measure: (N,) array}}."""
    values = {}
    for layer in LAYERS:
        flat = acts[layer].reshape(len(acts[layer]), -1)
        values[layer] = {"entropy_bits": per_image_entropy(per_image_histograms(acts[layer], edges[layer])),
                         "zero_fraction": (flat == 0).mean(axis=1),
                         "mean": flat.mean(axis=1, dtype=np.float64),
                         "channel_corr": per_image(channel_corr, acts[layer]),
                         "input_corr": per_image(input_corr, acts[layer], acts["input"])}
    probabilities = acts[OUTPUT].astype(np.float64)
    values["output"] = {"accuracy": (probabilities.argmax(axis=1) == labels).astype(float),
                        "softmax_entropy_bits": per_image_entropy(probabilities),
                        "p_true_class": probabilities[np.arange(len(labels)), labels]}
    return values


def summarise_images(per_seed, rng, resamples):
    """{measure: per-seed (N,) arrays} -> mean over images and seeds, bootstrap interval over images
    (of the seed-averaged values), standard deviation across seeds of the per-seed means."""
    summary = {}
    for measure, arrays in per_seed.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (no channel to correlate)
            per_image = np.nanmean(np.stack(arrays), axis=0)
            seed_means = [m for m in (np.nanmean(a) for a in arrays) if not np.isnan(m)]
        mean, low, high = bootstrap_ci(per_image, rng, resamples)
        summary.update({measure: mean, f"{measure}_low": low, f"{measure}_high": high,
                        f"{measure}_seed_sd": float(np.std(seed_means, ddof=1)) if len(seed_means) > 1 else 0.0})
    return summary


def probe_metrics(runs, labels, bins, resamples, seed):
    """Per model and layer, the frog's measures over the probe images; accuracy, softmax entropy and
    probability of the true class; linear CKA between every pair of layers of every pair of models
    (same seed, averaged over seeds). Returns (metrics, {pair: mean CKA matrix})."""
    edges = layer_edges(runs, bins)
    metrics = {}
    for model, seeds in runs.items():
        rng = np.random.default_rng(seed)
        per_run = [probe_run(acts, edges, labels) for acts in seeds.values()]
        metrics[model] = {part: summarise_images({m: [run[part][m] for run in per_run] for m in per_run[0][part]},
                                                 rng, resamples)
                          for part in (*LAYERS, "output")}
    grams = {model: {s: [centered_gram(acts[layer]) for layer in LAYERS] for s, acts in seeds.items()}
             for model, seeds in runs.items()}
    per_seed = {name: [np.array([[cka_of_grams(k, l) for l in grams[b][s]] for k in grams[a][s]]) for s in grams[a]]
                for name, (a, b) in pairs(runs).items()}
    some_run = next(iter(next(iter(runs.values())).values()))
    pixels = per_image_histograms(some_run["input"], np.linspace(0, 1, bins + 1), zeros_apart=False)
    metrics["input"] = summarise_images({"entropy_bits": [per_image_entropy(pixels)]}, np.random.default_rng(seed),
                                        resamples)
    metrics["cka"] = {name: over_seeds([{layer: float(m[i, i]) for i, layer in enumerate(LAYERS)} for m in matrices])
                      for name, matrices in per_seed.items()}
    return round_floats(metrics), {name: np.mean(matrices, axis=0) for name, matrices in per_seed.items()}


def largest(models):
    """The model trained on the most images (the first such in params order)."""
    return max(models, key=lambda name: models[name]["train_size"])


def size_sweep(models, train_metrics, probe, cka):
    """Rows per model, by training-set size: test accuracy (mean and sd over seeds), the last
    hidden layer's entropy and zero fraction and the softmax entropy over the probe set; and rows of
    CKA between each layer and the same layer of the largest model."""
    top = largest(models)
    rows, cka_rows = [], []
    for model in sorted(models, key=lambda name: models[name]["train_size"]):
        accuracy = over_seeds([{"test_accuracy": m["test_accuracy"]} for m in train_metrics[model]])
        rows.append({"model": model, "train_size": models[model]["train_size"], **accuracy,
                     f"{LAST}_entropy_bits": probe[model][LAST]["entropy_bits"],
                     f"{LAST}_zero_fraction": probe[model][LAST]["zero_fraction"],
                     "softmax_entropy_bits": probe[model]["output"]["softmax_entropy_bits"]})
        pair = f"{model}_vs_{top}" if f"{model}_vs_{top}" in cka else f"{top}_vs_{model}"
        for i, layer in enumerate(LAYERS):
            value = 1.0 if model == top else float(cka[pair][i, i])
            cka_rows.append({"layer": layer, "model": model, "train_size": models[model]["train_size"],
                             "cka_to_largest": value})
    return [round_floats(row) for row in rows], cka_rows
