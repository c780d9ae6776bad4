"""Long-format rows (one per model and x value) for DVC's plots; the templates colour by `model`
and, where there are subjects, draw one panel per `subject`."""

import numpy as np

from lib.cifar import CLASSES
from lib.keys import OUTPUT, numbers, pair_models
from lib.measures import pixel_edges, shared_edges


def by_layer(models, layers, extra=None):
    """Rows of every measure per model and layer, in each network's own layer order."""
    return [{**(extra or {}), "model": model, "layer_index": i + 1, "layer": layer,
             **numbers(summary["layers"][layer])}
            for model, summary in models.items() for i, layer in enumerate(layers[model])]


def subject_layers(subjects, layers):
    return [row for name, subject in subjects.items() for row in by_layer(subject["models"], layers, {"subject": name})]


def probe_layers(probe, layers):
    return by_layer(probe["models"], layers)


def js_layers(subjects):
    """Rows of JS divergence per subject, model pair and matched layer."""
    return [{"subject": name, "model": pair, "layer_index": i + 1, "layer": key, "js_bits": value}
            for name, subject in subjects.items() for pair, values in subject["pairs"].items()
            for i, (key, value) in enumerate(numbers(values["js_bits"]).items())]


def curves(histories):
    """Rows of every model's training history from {model: [per-epoch rows]}."""
    return [{"model": model, **row} for model, rows in histories.items() for row in rows]


def histogram(series, edges, extra):
    """Rows of a density histogram per series from {series: counts over `edges`}."""
    widths = np.diff(edges)
    rows = []
    for model, counts in series.items():
        density = counts / max(counts.sum(), 1) / widths
        rows += [{**extra, "model": model, "bin_low": float(low), "bin_high": float(high), "density": float(d)}
                 for low, high, d in zip(edges[:-1], edges[1:], density)]
    return rows


def distributions(names, runs, role, bins):
    """Rows of each subject's non-zero values of the layer playing `role`, per model (first seed)."""
    rows = []
    for i, name in enumerate(names):
        values = {model: np.ravel(run.acts[run.roles[role]][i]) for model, run in runs.items()}
        edges = shared_edges(list(values.values()), bins)
        rows += histogram({model: np.histogram(np.clip(v[v != 0], edges[0], edges[-1]), bins=edges)[0]
                           for model, v in values.items()}, edges, {"subject": name})
    return rows


def pixels(names, inputs, bins):
    """Rows of each subject's pixel histogram."""
    edges = pixel_edges(bins)
    return [row for name, image in zip(names, inputs)
            for row in histogram({"input": np.histogram(image, bins=edges)[0]}, edges, {"subject": name})]


def softmax(names, runs):
    """Rows of class probabilities per subject and model (first seed)."""
    return [{"subject": name, "model": model, "class": cls, "probability": float(p)}
            for i, name in enumerate(names) for model, run in runs.items()
            for cls, p in zip(CLASSES, np.ravel(run.acts[run.roles[OUTPUT]][i]))]


def cka(matrices, layers):
    """Rows of CKA per model pair and pair of layers."""
    rows = []
    for pair, matrix in matrices.items():
        a, b = pair_models(pair)
        rows += [{"model": pair, "layer_a": la, "layer_b": lb,
                  "cka": None if np.isnan(matrix[i, j]) else float(matrix[i, j])}
                 for i, la in enumerate(layers[a]) for j, lb in enumerate(layers[b])]
    return rows


def analysis_tables(subjects, probe, cka_matrices, sweep, names, inputs, shown, histories, bins):
    """The analyze stage's plot data by name (lib.files.ANALYSIS_PLOTS): `shown` {model: Run of the
    subjects at the first seed}, `histories` {model: that seed's history}, `sweep` (rows, CKA rows)."""
    layers = {model: list(summary["layers"]) for model, summary in probe["models"].items()}
    return {
        "subject_layers": subject_layers(subjects, layers),
        "probe_layers": probe_layers(probe, layers),
        "js_layers": js_layers(subjects),
        "cka": cka(cka_matrices, layers),
        "distribution_last_hidden": distributions(names, shown, "last_hidden", bins),
        "subject_pixels": pixels(names, inputs, bins),
        "softmax": softmax(names, shown),
        "training": curves(histories),
        "by_size": sweep[0],
        "cka_to_largest": sweep[1],
    }
