"""From every training run's activations to metrics/subjects.json and metrics/probe.json.

`runs` everywhere is {model: {seed: Run}}: each run's layers (its own names, in order), their
roles and the activations of a set of images (the subjects or the probe set); every model has the
same seeds. Every measure of the registries in lib.measures is taken per image and run, alike for
subjects and probe images, from that run's values alone: a model's numbers do not depend on which
other models are in the run (only the pairwise ones, JS divergence and CKA, do). A run's numbers
are summarised over seeds: the mean and, as `<measure>_seed_sd`, the standard deviation across seeds;
over the probe set also a 95 % bootstrap interval over images (`_low`, `_high`) of the per-image
values averaged over seeds. Comparisons (one model against another, the input against a layer)
get intervals of their own from a hierarchical, paired bootstrap: seeds, then the same images on
both sides (lib.stats.paired_bootstrap_ci); each measure draws on its own stream of analysis.seed,
so adding or removing a measure moves no other measure's interval.

The metrics files keep models, pairs of models and the input under keys of their own ("models",
"pairs", "input"), and each model's layers under "layers" beside its "output", so no name chosen
in params can overwrite another entry.
"""

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from lib.cifar import CLASSES, label_name
from lib.measures import (LAYER_MEASURES, OUTPUT_MEASURES, LayerView, centered_gram, cka_of_grams, js_bits,
                          layer_histogram, layer_view, shared_edges)
from lib.files import LAYER_CARD, images_file
from lib.keys import OUTPUT, find_pair, numbers, role_key, role_layer, role_section, spread, with_interval
from lib.model import largest, trained_sizes
from lib.stats import (bootstrap_ci, defined_means, first, named_stream, over_seeds, paired_bootstrap_ci, pairs,
                       round_floats)
from lib.store import load_arrays, load_runs, read_json


class Run(NamedTuple):
    """One training run seen on a set of images: layers in order, {role: layer}, {layer: (N, ...) array}."""

    layers: list
    roles: dict
    acts: dict

    def rows(self, index):
        """The same run seen on images `index` only."""
        return Run(self.layers, self.roles, {layer: values[index] for layer, values in self.acts.items()})


def runs_of(folder, params, images):
    """{model: {seed: Run}} of every training run's activations for `images` ("subjects" or "probe"),
    from <folder>/<model>/<seed>/{layers.json, <images>.npz}."""
    cards = load_runs(folder, params, read_json, "layer card", f"/{LAYER_CARD}")
    acts = load_runs(folder, params, load_arrays, "activations", f"/{images_file(images)}")
    return {model: {seed: Run(card["layers"], card["roles"], acts[model][seed]) for seed, card in runs.items()}
            for model, runs in cards.items()}


def matched_layers(a, b):
    """[(key, layer of a, layer of b)] that two networks share: layers of the same name (a's order),
    then each role whose layers are named differently, keyed by the role."""
    same = [(layer, layer, layer) for layer in a.layers if layer in b.layers]
    return same + [(role, a.roles[role], b.roles[role]) for role in a.roles if a.roles[role] != b.roles[role]]


def copies(run):
    """{layer: an earlier layer whose values it repeats exactly} (e.g. dropout at inference)."""
    same = {}
    for i, layer in enumerate(run.layers):
        values = run.acts[layer]
        original = next((earlier for earlier in run.layers[:i] if earlier not in same
                         and run.acts[earlier].shape == values.shape and np.array_equal(run.acts[earlier], values)),
                        None)
        if original:
            same[layer] = original
    return same


IMAGES_AT_ONCE = 32  # images measured together: their temporaries stay in the processor's caches


def layer_measures(values, inputs, bins, edges=None):
    """Every registered layer measure of one layer's values, per image. Each image's numbers
    depend on its own values and the run's bins alone (`edges`, by default spanning `values`; pass
    a whole set's to measure some of its images as the set's measurement does), so the images are
    measured a few at a time."""
    edges = layer_view(values, inputs, bins).edges if edges is None else edges
    parts = [{name: measure(LayerView(values[start:start + IMAGES_AT_ONCE], inputs[start:start + IMAGES_AT_ONCE],
                                      bins, edges)) for name, measure in LAYER_MEASURES.items()}
             for start in range(0, len(values), IMAGES_AT_ONCE)]
    return {name: np.concatenate([part[name] for part in parts]) for name in LAYER_MEASURES}


def measure_images(run, inputs, bins, labels):
    """Every registered measure of one run, per image: {"layers": {layer: {measure: (N,)}}, "output": {...}}.
    Layers are measured side by side, one per core; a layer repeating an earlier one is measured once."""
    same = copies(run)
    measured = [layer for layer in run.layers if layer not in same]
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        found = dict(zip(measured, pool.map(lambda layer: layer_measures(run.acts[layer], inputs, bins), measured)))
    layers = {layer: found[same.get(layer, layer)] for layer in run.layers}
    probabilities = run.acts[run.roles[OUTPUT]].astype(np.float64)
    output = {name: measure(probabilities, labels) for name, measure in OUTPUT_MEASURES.items()}
    return {"layers": layers, OUTPUT: output}


def one_image(values):
    """The per-image arrays of a single image as numbers (NaN where undefined)."""
    if isinstance(values, dict):
        return {key: one_image(value) for key, value in values.items()}
    return float(values[0])


def subject_run(run, inputs, bins, label):
    """One run's measures of one subject, with the predicted class."""
    measures = one_image(measure_images(run, inputs, bins, np.array([label])))
    measures[OUTPUT]["predicted"] = CLASSES[int(run.acts[run.roles[OUTPUT]][0].argmax())]
    return measures


INPUT_MEASURES = ("entropy_bits", "entropy_scaled_bits", "mean")  # the layer measures the input gets too


def input_measures(inputs, bins):
    """The input's values measured per image as a layer's are (the same estimators: claim 3 compares them)."""
    view = layer_view(inputs, inputs, bins)
    return {name: LAYER_MEASURES[name](view) for name in INPUT_MEASURES}


def pair_divergence(runs_a, runs_b, bins):
    """JS divergence of each matched layer's histograms, runs of the same seed paired; histograms
    on edges spanning both models' values of that layer pair."""
    results = []
    for seed, run_a in runs_a.items():
        run_b, row = runs_b[seed], {}
        for key, la, lb in matched_layers(run_a, run_b):
            edges = shared_edges([r.acts[la] for r in runs_a.values()] + [r.acts[lb] for r in runs_b.values()], bins)
            row[key] = js_bits(layer_histogram(run_a.acts[la], edges), layer_histogram(run_b.acts[lb], edges))
        results.append(row)
    return over_seeds(results)


def subject_metrics(index, label, inputs, runs, bins):
    """One subject's measures per model (over seeds), its pixels, and JS divergence between models."""
    seen = {model: {seed: run.rows(slice(index, index + 1)) for seed, run in seeds.items()}
            for model, seeds in runs.items()}
    image = inputs[index:index + 1]
    return {"label": label_name(label),
            "input": one_image(input_measures(image, bins)),
            "models": {model: over_seeds([subject_run(run, image, bins, label) for run in seeds.values()])
                       for model, seeds in seen.items()},
            "pairs": {pair: {"js_bits": pair_divergence(seen[a], seen[b], bins)}
                      for pair, (a, b) in pairs(seen).items()}}


def subjects_metrics(names, labels, inputs, runs, bins):
    """Per subject: measures per model and layer and the softmax output, JS divergence between
    models per matched layer, the input's pixel entropy and mean."""
    return round_floats({name: subject_metrics(i, int(labels[i]), inputs, runs, bins) for i, name in enumerate(names)})


def summarise_images(per_seed, seed, resamples):
    """{measure: per-seed (N,) arrays} -> mean over images and seeds, bootstrap interval over images
    (of the seed-averaged values), standard deviation across seeds of the per-seed means."""
    summary = {}
    for measure, arrays in per_seed.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (no channel to correlate)
            per_image = np.nanmean(np.stack(arrays), axis=0)
            seed_means = [m for m in (np.nanmean(a) for a in arrays) if not np.isnan(m)]
        mean, low, high = bootstrap_ci(per_image, named_stream(seed, measure), resamples)
        summary.update({**with_interval(measure, (mean, low, high)),
                        spread(measure): float(np.std(seed_means, ddof=1)) if len(seed_means) > 1 else 0.0})
    return summary


def summarise_model(per_run, seed, resamples):
    """A model's per-image values of every run -> {"layers": {layer: summary}, "output": summary}."""
    head = per_run[0]
    return {"layers": {layer: summarise_images({m: [run["layers"][layer][m] for run in per_run] for m in measures},
                                               seed, resamples)
                       for layer, measures in head["layers"].items()},
            OUTPUT: summarise_images({m: [run[OUTPUT][m] for run in per_run] for m in head[OUTPUT]},
                                       seed, resamples)}


def role_layers(a, b):
    """[(key, layer of a, layer of b)] for each role: keyed by the layer's name where both name it alike."""
    return [(role_key(role, a.roles[role], b.roles[role]), a.roles[role], b.roles[role]) for role in a.roles]


def per_seed(per_run, layer, measure):
    """(seeds, images) values of one measure of one layer (OUTPUT for the output measures)."""
    return np.stack([run[OUTPUT][measure] if layer == OUTPUT else run["layers"][layer][measure] for run in per_run])


def differences(per_a, per_b, run_a, run_b, seed, resamples):
    """a − b for every measure of the role layers and the output: the mean and a 95 % interval from
    the hierarchical, paired bootstrap (seeds of each model, then the same probe images for both)."""
    def summary(la, lb, measures):
        return {key: value for m in measures for key, value in with_interval(m, paired_bootstrap_ci(
            per_seed(per_a, la, m), per_seed(per_b, lb, m), named_stream(seed, m), resamples)).items()}

    return {"layers": {key: summary(la, lb, LAYER_MEASURES) for key, la, lb in role_layers(run_a, run_b)},
            OUTPUT: summary(OUTPUT, OUTPUT, OUTPUT_MEASURES)}


def entropy_drop(input_entropy, per_run, run, seed, resamples):
    """The input's scaled entropy minus the last hidden layer's, per image (the article's
    narrowing), with the paired, seed-aware interval."""
    name = "entropy_drop_bits"
    return with_interval(name, paired_bootstrap_ci(input_entropy[None], per_seed(
        per_run, run.roles["last_hidden"], "entropy_scaled_bits"), named_stream(seed, name), resamples))


def cka_matrices(runs_a, runs_b, grams_a, grams_b):
    """Per seed, linear CKA between every layer of a (rows) and every layer of b (columns)."""
    return [np.array([[cka_of_grams(grams_a[seed][la], grams_b[seed][lb]) for lb in runs_b[seed].layers]
                      for la in run_a.layers]) for seed, run_a in runs_a.items()]


def probe_metrics(runs, inputs, labels, bins, resamples, seed):
    """Per model and layer, every registered measure over the probe images, with intervals; the
    output measures (accuracy, softmax entropy, probability of the label); linear CKA between every
    layer of every pair of models (same seed, averaged over seeds), reported for matched layers;
    per pair, the difference a − b of every measure of the role layers and the output, and per
    model the entropy drop from the input to its last hidden layer, each with a seed-aware, paired
    interval (what the claims are judged on); the number of seeds.
    Returns (metrics, {pair: mean CKA matrix, rows a's layers, columns b's})."""
    pixels = input_measures(inputs, bins)
    models, per_runs = {}, {}
    for model, seeds in runs.items():
        per_runs[model] = [measure_images(run, inputs, bins, labels) for run in seeds.values()]
        models[model] = {"roles": first(seeds).roles, **summarise_model(per_runs[model], seed, resamples),
                         "narrowing": entropy_drop(pixels["entropy_scaled_bits"], per_runs[model], first(seeds), seed, resamples)}
    grams = {model: {seed: {layer: centered_gram(run.acts[layer]) for layer in run.layers}
                     for seed, run in seeds.items()} for model, seeds in runs.items()}
    matrices, cka = {}, {}
    for pair, (a, b) in pairs(runs).items():
        per_seed_cka = cka_matrices(runs[a], runs[b], grams[a], grams[b])
        ra, rb = first(runs[a]), first(runs[b])
        cka[pair] = {"cka": over_seeds([{key: float(m[ra.layers.index(la), rb.layers.index(lb)])
                                         for key, la, lb in matched_layers(ra, rb)} for m in per_seed_cka]),
                     "difference": differences(per_runs[a], per_runs[b], ra, rb, seed, resamples)}
        matrices[pair] = defined_means(per_seed_cka)
    metrics = {"seeds": len(first(runs)), "input": summarise_images({m: [v] for m, v in pixels.items()}, seed, resamples),
               "models": models, "pairs": cka}
    return round_floats(metrics), matrices


SWEPT = ("entropy_bits", "zero_fraction", "mean")  # the last hidden layer's measures in the size sweep


def size_sweep(models, train_metrics, probe, cka):
    """Rows per model trained here, by training-set size: test accuracy, the last hidden layer's
    entropy, zero fraction and mean, and the softmax entropy over the probe set (each the mean over
    seeds with its `_seed_sd`); and rows of CKA between each matched layer and the largest model's."""
    top = largest(models)
    rows, cka_rows = [], []
    for model, size in trained_sizes(models).items():
        accuracy = over_seeds([{"test_accuracy": m["test_accuracy"]} for m in train_metrics[model]])
        summary = probe["models"][model]
        rows.append({"model": model, "train_size": size, **accuracy,
                     **{f"last_hidden_{key}": role_section(summary, "last_hidden")[key]
                        for m in SWEPT for key in (m, spread(m))},
                     **{key: summary[OUTPUT][key] for key in ("softmax_entropy_bits", spread("softmax_entropy_bits"))}})
        if model == top:
            values = {layer: 1.0 for layer in probe["models"][top]["layers"]}
        else:
            values = numbers(find_pair(probe["pairs"], model, top)[0]["cka"])
        cka_rows += [{"layer": key, "model": model, "train_size": size, "cka_to_largest": value}
                     for key, value in values.items()]
    return [round_floats(row) for row in rows], cka_rows


def summary_lines(subjects, probe):
    """What the analyze stage says of each model: each subject's predicted class and the last hidden
    layer's entropy and zero fraction on it, and the probe accuracy."""
    lines = []
    for model, summary in probe["models"].items():
        last = role_layer(summary, "last_hidden")
        for name, subject in subjects.items():
            out, layer = subject["models"][model][OUTPUT], subject["models"][model]["layers"][last]
            given = f" (p_{subject['label']} {out['p_label']:.3f})" if subject["label"] else ""
            lines.append(f"analyze: {model}: {name} -> {out['predicted']}{given}, {last} entropy "
                         f"{layer['entropy_bits']:.3f} bits, zero fraction {layer['zero_fraction']:.3f}")
        lines.append(f"analyze: {model}: probe accuracy {summary[OUTPUT]['accuracy']:.3f}")
    return lines
