"""What a channel responds to, from data: the images of the official test split that excite it
most (dataset examples, as in Zeiler & Fergus 2014 and OpenAI Microscope), the input patch each
one's peak sees (its receptive field, computed from the network's layers), and the classes of its
top images.

A channel's response to an image is its maximum over the layer's positions (its value, for a
layer without spatial axes). Images are ranked by it, highest first, ties by the lower index in
the official test split. A channel whose response is the same on every image (dead after its
ReLU, or constant) has no examples worth the name: it is `constant`, and its class tally is
undefined (NaN in arrays, null in metrics).

Class specificity of a channel: the share of its `tally` top images in their most frequent class
(1: all one class; 1/10 at best spread over CIFAR-10's classes). A layer's is the mean over its
channels that are not constant.
"""

from typing import NamedTuple

import numpy as np

from lib.analysis import over_seeds, round_floats
from lib.cifar import CLASSES, SIDE
from lib.keys import spread, with_interval
from lib.model import CONVOLUTIONS
from lib.reliance import Resampling, paired_differences, with_bounds
from lib.store import existing, load_arrays

POOLS = ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D")
POINTWISE = ("Dense", "EinsumDense", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
             "BatchNormalization", "LayerNormalization", "Dropout", "SpatialDropout2D", "GaussianDropout",
             "GaussianNoise", "AlphaDropout", "ActivityRegularization", "Rescaling", "Normalization")
LOOKAHEAD = 3  # a resample's top k is sought in the ranking's first LOOKAHEAD * k images (all, if too few are drawn)


def official_test_split(val, test):
    """(images, labels, indices) of the official test split: the carved validation and test sets
    (.npz files) together, in official order."""
    parts = [load_arrays(existing(path, what)) for path, what in ((val, "validation set"), (test, "test set"))]
    indices = np.concatenate([part["indices"] for part in parts])
    order = np.argsort(indices, kind="stable")
    return (np.concatenate([part["images"] for part in parts])[order],
            np.concatenate([part["labels"] for part in parts])[order].astype(int), indices[order])


class Field(NamedTuple):
    """The receptive field of a layer's positions along the image's (height, width) axes: `size`
    pixels wide, `jump` pixels between neighbouring positions, and `start`, the input coordinate
    (pixel centres at whole numbers) of the centre of position 0."""

    size: tuple
    jump: tuple
    start: tuple


INPUT_FIELD = Field((1, 1), (1, 1), (0.0, 0.0))


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _window(field, kernel, stride, dilation, padding, size_in, size_out):
    """A field after a sliding window (a convolution or a pooling) over the previous one."""
    kernel, stride, dilation = _pair(kernel), _pair(stride), _pair(dilation)
    size, jump, start = [], [], []
    for axis in range(2):
        span = (kernel[axis] - 1) * dilation[axis]
        before = 0
        if padding == "same":
            before = max((size_out[axis] - 1) * stride[axis] + span + 1 - size_in[axis], 0) // 2
        size.append(field.size[axis] + span * field.jump[axis])
        start.append(field.start[axis] + (span / 2 - before) * field.jump[axis])
        jump.append(field.jump[axis] * stride[axis])
    return Field(tuple(size), tuple(jump), tuple(start))


def _chain(model, layer):
    """The layers from the input to `layer`, in order; None where one of them has several inputs
    (a branching network, whose fields this module does not compute)."""
    import keras

    path, current = [], model.get_layer(layer)
    while not isinstance(current, keras.layers.InputLayer):
        try:
            inputs = current.input
        except (AttributeError, ValueError):
            return None
        if isinstance(inputs, (list, tuple, dict)):
            return None
        path.append(current)
        current = inputs._keras_history.operation
    return path[::-1]


def _spatial(shape):
    """(height, width) of a layer's (batch, height, width, channels) shape; None for another rank."""
    return tuple(shape[1:3]) if len(shape) == 4 else None


def receptive_field(model, layer):
    """The Field of `layer`'s positions, computed from the layers between it and the input; None
    where `layer` has no spatial axes or a layer on the way is one this module cannot follow (its
    positions then see the whole image)."""
    path = _chain(model, layer)
    if path is None:
        return None
    field = INPUT_FIELD
    for step in path:
        kind, config = type(step).__name__, step.get_config()
        shape_in, shape_out = _spatial(step.input.shape), _spatial(step.output.shape)
        if shape_in is None or shape_out is None:
            return None
        if kind in CONVOLUTIONS:
            field = _window(field, config["kernel_size"], config["strides"], config.get("dilation_rate", 1),
                            config["padding"], shape_in, shape_out)
        elif kind in POOLS:
            field = _window(field, config["pool_size"], config["strides"] or config["pool_size"], 1,
                            config["padding"], shape_in, shape_out)
        elif kind == "ZeroPadding2D":
            (top, _), (left, _) = config["padding"]
            field = field._replace(start=(field.start[0] - top * field.jump[0], field.start[1] - left * field.jump[1]))
        elif kind == "Cropping2D":
            (top, _), (left, _) = config["cropping"]
            field = field._replace(start=(field.start[0] + top * field.jump[0], field.start[1] + left * field.jump[1]))
        elif kind not in POINTWISE or shape_in != shape_out:
            return None
    return field


def box(field, row, col, side=SIDE):
    """(top, left, bottom, right), bottom and right exclusive: the input pixels position (row, col)
    of a layer sees, clipped to the image; the whole image where the field is None."""
    if field is None:
        return 0, 0, side, side
    edges = []
    for axis, position in enumerate((row, col)):
        low = int(round(field.start[axis] + position * field.jump[axis] - (field.size[axis] - 1) / 2))
        edges.append((max(low, 0), min(low + int(field.size[axis]), side)))
    (top, bottom), (left, right) = edges
    return top, left, bottom, right


def field_card(field):
    """A Field as JSON, or None."""
    return None if field is None else {name: [float(v) for v in value] for name, value in field._asdict().items()}


def peaks(values):
    """(N, channels) each image's maximum of each channel over the layer's positions, and (N,
    channels) the flat index of the first position that reaches it (0 for a layer without them)."""
    flat = np.asarray(values).reshape(len(values), -1, values.shape[-1])
    return flat.max(axis=1), flat.argmax(axis=1)


def ranking(peak):
    """(channels, N): per channel, the images from the most exciting down, ties by the lower index."""
    return np.argsort(-np.asarray(peak, np.float64), axis=0, kind="stable").T


def constant(peak):
    """(channels,) bool: channels whose response is the same on every image."""
    return peak.max(axis=0) == peak.min(axis=0)


def class_tally(order, labels, k):
    """(channels, classes) counts of the classes among each channel's top k images (`order` from ranking)."""
    top = labels[order[:, :k]]
    return np.stack([np.bincount(row, minlength=len(CLASSES)) for row in top])


def specificity(tally, dead):
    """(channels,) the share of a channel's top images in its most frequent class; NaN where `dead`."""
    share = tally.max(axis=1) / tally.sum(axis=1)
    return np.where(dead, np.nan, share)


def resampled_specificity(order, labels, k, draws):
    """(R, channels) specificity with the images drawn (R, N) counts: each resample's top k of the
    drawn images (an image drawn twice counts twice), from the full ranking `order` (channels, N)."""
    reach = min(order.shape[1], LOOKAHEAD * k)
    onehot = np.eye(len(CLASSES))[labels]
    found = np.empty((len(draws), len(order)))
    for c, ranked in enumerate(order):
        ranked = ranked if draws[:, ranked[:reach]].sum(axis=1).min() < k else ranked[:reach]
        drawn = draws[:, ranked]
        taken = np.clip(k - (np.cumsum(drawn, axis=1) - drawn), 0, drawn)
        counts = taken @ onehot[ranked]
        found[:, c] = counts.max(axis=1) / counts.sum(axis=1)
    return found


def examples(peak, where, labels, top, tally):
    """One layer's dataset examples from its `peaks`: {"rank" (channels, top) image rows, "value",
    "where" (flat position), "tally" (channels, classes), "constant" (channels,)}."""
    order = ranking(peak)
    best = order[:, :top]
    columns = np.arange(peak.shape[1])[:, None]
    return {"rank": best, "value": peak[best, columns], "where": where[best, columns],
            "tally": class_tally(order, labels, tally), "constant": constant(peak)}


CHUNK = 500  # test images read at once: every layer's maps of them fit in memory


def split_peaks(read, x, chunk=CHUNK):
    """{layer: ((N, channels) peaks, (N, channels) positions)} of every layer `read(images)` returns
    (lib.activations.layer_reader), `chunk` images at a time."""
    parts = {}
    for first in range(0, len(x), chunk):
        for layer, values in read(x[first:first + chunk]).items():
            parts.setdefault(layer, []).append(peaks(values))
    return {layer: tuple(np.concatenate(column) for column in zip(*found)) for layer, found in parts.items()}


def layer_examples(peak, where, shape, field, labels, indices, top, tally):
    """One layer's examples file entries: per channel and rank the image's `index` in the official
    test split, its `value`, the `position` (row, column) of the peak in the layer's map ((-1, -1)
    for a layer without positions) and the `box` of input pixels it sees; the `tally` of classes of
    the top `tally` images; which channels are `constant`; and every image's `peak`. `shape` is the
    layer's output shape without the batch axis; images are in official order (ties by index)."""
    found = examples(peak, where, labels, top, tally)
    if len(shape) == 3:
        rows, cols = np.divmod(found["where"], shape[1])
        position = np.stack([rows, cols], axis=-1)
        boxes = np.array([[box(field, r, c) for r, c in channel] for channel in position])
    else:
        position = np.full((*found["where"].shape, 2), -1)
        boxes = np.broadcast_to(np.array(box(None, 0, 0)), (*found["where"].shape, 4))
    return {"index": indices[found["rank"]], "value": found["value"].astype(np.float32), "position": position,
            "box": boxes, "tally": found["tally"], "constant": found["constant"], "peak": peak.astype(np.float32)}


def layer_specificity(runs, labels, k, images, weights):
    """One model's layer over its seeds (`runs`: per seed, the layer's (N, channels) peaks) ->
    (summary with the interval over seeds and images, (R,) resampled means).

    An image drawn twice in a resample counts twice among its top k, which makes a top-k share
    larger under resampling than it is: the resampled means are shifted to centre on the estimate
    (a bias-corrected percentile interval)."""
    per_seed, resampled = [], []
    for peak in runs:
        dead = constant(peak)
        order = ranking(peak)
        per_seed.append(float(np.nanmean(specificity(class_tally(order, labels, k), dead))) if not dead.all()
                        else np.nan)
        alive = ~dead
        found = resampled_specificity(order[alive], labels, k, images) if alive.any() else \
            np.full((len(images), 1), np.nan)
        resampled.append(found.mean(axis=1))
    resampled = np.stack(resampled, axis=1)  # (R, seeds)
    with np.errstate(invalid="ignore"):
        means = (np.nan_to_num(resampled) * weights).sum(axis=1) / (np.isfinite(resampled) * weights).sum(axis=1)
    name = "class_specificity"
    over = over_seeds([{name: value} for value in per_seed])
    if over[name] is not None:
        means = means - (np.nanmean(means) - over[name])
    summary = {**with_interval(name, with_bounds(over[name], means)), spread(name): over[spread(name)],
               "channels": int(runs[0].shape[1]), "constant_channels": float(np.mean([constant(p).sum() for p in runs]))}
    return summary, means


def specificity_metrics(peaks_by_run, roles, labels, k, resamples, seed):
    """Every model's class specificity per layer, from `peaks_by_run` {model: {seed: {layer: (N,
    channels) peaks}}} and `roles` {model: {role: layer}}, with the paired difference of every pair
    of models at the first convolution and the last hidden layer."""
    resampling = Resampling(len(labels), resamples, seed, "examples")
    models, resampled = {}, {}
    for model, runs in peaks_by_run.items():
        seeds = list(runs)
        weights = resampling.seeds(model, len(seeds))
        layers = {}
        for layer in runs[seeds[0]]:
            layers[layer], resampled[model, layer] = layer_specificity([runs[s][layer] for s in seeds], labels, k,
                                                                        resampling.images, weights)
        models[model] = {"roles": roles[model], "layers": layers}
    differences = paired_differences(models, roles, ("class_specificity",),
                                     lambda model, layer: {"class_specificity": resampled[model, layer]})
    return round_floats({"top": k, "seeds": len(seeds), "models": models, "pairs": differences})
