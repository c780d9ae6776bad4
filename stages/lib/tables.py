"""Long-format rows (one per model and x value) for DVC's plots; the templates colour by `model`."""

import numpy as np

from lib.cifar import CLASSES
from lib.model import LAYERS


def by_layer(per_model, fields):
    """Rows of `fields` per model and layer from {model: {layer: {field: value}}}."""
    return [{"model": model, "layer_index": i + 1, "layer": layer,
             **{field: layers[layer].get(field) for field in fields}}
            for model, layers in per_model.items() for i, layer in enumerate(LAYERS)]


def js_by_layer(js):
    """Rows of JS divergence per model pair and layer."""
    return [{"model": pair, "layer_index": i + 1, "layer": layer, "js_bits": values[layer]}
            for pair, values in js.items() for i, layer in enumerate(LAYERS)]


def curves(histories):
    """Rows of every model's training history from {model: [per-epoch rows]}."""
    return [{"model": model, **row} for model, rows in histories.items() for row in rows]


def histogram(series, edges):
    """Rows of a density histogram per model from {model: counts over `edges`}."""
    widths = np.diff(edges)
    rows = []
    for model, counts in series.items():
        density = counts / max(counts.sum(), 1) / widths
        rows += [{"model": model, "bin_low": float(low), "bin_high": float(high), "density": float(d)}
                 for low, high, d in zip(edges[:-1], edges[1:], density)]
    return rows


def softmax(probabilities):
    """Rows of class probabilities per model from {model: (10,) probabilities}."""
    return [{"model": model, "class": name, "probability": float(p)}
            for model, probs in probabilities.items() for name, p in zip(CLASSES, np.ravel(probs))]


def cka(matrices):
    """Rows of CKA per model pair and pair of layers."""
    return [{"model": pair, "layer_a": a, "layer_b": b, "cka": float(matrix[i, j])}
            for pair, matrix in matrices.items()
            for i, a in enumerate(LAYERS) for j, b in enumerate(LAYERS)]
