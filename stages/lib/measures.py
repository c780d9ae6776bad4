"""Information measures of activations: binned entropies, sparsity, channel correlation, mutual
information with the input, Jensen-Shannon divergence, CKA, bootstrap intervals.

Entropy is of the *binned* values, in bits, two ways, each computed from one run's own values
alone, so adding or removing another model or seed moves neither:

- `entropy_bits`: bins of a fixed width, 1 / analysis.bins, anchored at 0 (the input's pixels,
  in [0, 1], fall in `bins` of them). Every model's layer is binned alike, so the numbers compare
  between models; they depend on scale (values twice as spread out gain about a bit).
- `entropy_scaled_bits`: `bins` equal bins spanning the run's own non-zero values of the layer on
  the image set measured (one subject, or the whole probe set): scale-free, a shape measure.

ReLU outputs are exactly zero wherever a unit is off; those zeros get a bin of their own in both,
so a sparse layer is not mistaken for a spread-out one, and their share is reported separately as
the zero fraction.

The measures the pipeline reports live in two registries, applied alike to every subject and every
probe image: LAYER_MEASURES (a layer's values -> one number per image) and OUTPUT_MEASURES (the
softmax output and the labels -> one number per image). Adding a measure is one decorated function
here: it then appears in metrics/subjects.json, metrics/probe.json (mean and interval) and the
by-layer plot data.
"""

from functools import cached_property

import numpy as np

from lib.cifar import NO_LABEL

LAYER_MEASURES = {}
OUTPUT_MEASURES = {}


class LayerView:
    """What a layer measure sees: one run's values of the layer (N, ...), the model inputs
    (N, H, W, C) in [0, 1], `bins` (analysis.bins) and `edges`: `bins` equal bins spanning these
    values' non-zero range (see layer_view); `index`, each value's bin on `edges` (zeros apart),
    is computed once for the measures that need it."""

    def __init__(self, values, inputs, bins, edges):
        self.values, self.inputs, self.bins, self.edges = values, inputs, bins, edges

    @cached_property
    def index(self):
        return per_image_bin(self.values, self.edges)


def layer_view(values, inputs, bins):
    """The LayerView of one run's values, its edges spanning those values alone."""
    return LayerView(values, inputs, bins, shared_edges([values], bins))


def layer_measure(function):
    """Register `function(view: LayerView) -> (N,) float array` (NaN where undefined) as the layer
    measure of its name (the key it has in every metrics file)."""
    LAYER_MEASURES[function.__name__] = function
    return function


def output_measure(function):
    """Register `function(probabilities (N, classes), labels (N,), NO_LABEL for none) -> (N,)` as the
    output measure of its name."""
    OUTPUT_MEASURES[function.__name__] = function
    return function


def pixel_edges(bins):
    """`bins` equal bins over [0, 1], the range of a picture's values as the model sees it."""
    return np.linspace(0.0, 1.0, bins + 1)


def shared_edges(arrays, bins):
    """`bins` equal-width bin edges spanning the non-zero values of every array."""
    nonzero = [a[a != 0] for a in map(np.ravel, arrays)]
    nonzero = [a for a in nonzero if a.size]
    if not nonzero:
        return pixel_edges(bins)
    low, high = min(float(a.min()) for a in nonzero), max(float(a.max()) for a in nonzero)
    if low == high:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, bins + 1)


def layer_histogram(values, edges):
    """Counts: [exact zeros, then one per bin of `edges` for the non-zero values]."""
    values = np.ravel(values)
    nonzero = values[values != 0]
    counts, _ = np.histogram(np.clip(nonzero, edges[0], edges[-1]), bins=edges)
    return np.concatenate([[values.size - nonzero.size], counts]).astype(np.int64)


def js_bits(p_counts, q_counts):
    """Jensen-Shannon divergence, in bits (0 for equal distributions, at most 1)."""
    p = np.asarray(p_counts, dtype=np.float64)
    q = np.asarray(q_counts, dtype=np.float64)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a):
        mask = a > 0
        return float((a[mask] * np.log2(a[mask] / m[mask])).sum())

    return min(max((kl(p) + kl(q)) / 2, 0.0), 1.0)


DEGENERATE = 1e-12  # a centred Gram matrix this small next to the raw one is rounding residue (float64)


def centered_gram(x):
    """The Gram matrix of x's rows (images), centred as the unbiased HSIC estimator needs; None
    where the representation (all but) does not vary across the images, which CKA cannot compare."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    n = x.shape[0]
    if n < 4:
        raise ValueError("CKA needs at least 4 images")
    gram = x @ x.T
    raw = np.linalg.norm(gram)
    np.fill_diagonal(gram, 0)
    means = gram.sum(axis=0) / (n - 2)
    means -= means.sum() / (2 * (n - 1))
    gram -= means[:, None]
    gram -= means[None, :]
    np.fill_diagonal(gram, 0)
    return None if np.linalg.norm(gram) <= DEGENERATE * raw else gram


def cka_of_grams(k, l):
    """Linear CKA between two representations of the same images, from their matrices made by
    centered_gram (compute each once, compare many); NaN where either is degenerate.

    Estimator: debiased CKA, built on the unbiased HSIC estimator (Song et al. 2012; as in
    Kornblith et al. 2019, appendix, and Nguyen et al. 2021). The plain (biased) estimator
    drifts toward 1 when features outnumber images (here up to 16,384 features against a
    1,000-image probe set), which would make unrelated layers look alike; the debiased one
    does not, and keeps CKA(X, X) = 1 and invariance to isotropic scaling and rotation."""
    if k is None or l is None:
        return float("nan")
    hsic_xy, hsic_xx, hsic_yy = (float((a * b).sum()) for a, b in ((k, l), (k, k), (l, l)))
    if hsic_xx <= 0 or hsic_yy <= 0:
        return float("nan")
    return hsic_xy / np.sqrt(hsic_xx * hsic_yy)


def equal_bin(values, edges):
    """numpy.searchsorted(edges, values, "right") − 1, clipped to the bins, for equal-width `edges`:
    by arithmetic, then moved by one where rounding put a value beside its bin."""
    last = len(edges) - 2
    step = (edges[-1] - edges[0]) / (last + 1)
    index = np.clip(np.floor((values - edges[0]) / step), 0, last).astype(np.int64)
    index -= (index > 0) & (values < edges[index])
    index += (index < last) & (values >= edges[np.minimum(index + 1, last + 1)])
    return index


def per_image_bin(values, edges, zeros_apart=True):
    """Each value's bin, per image (N, values): as layer_histogram counts them (exact zeros in bin
    0, then the bins of `edges`), or as numpy.histogram does when not `zeros_apart`."""
    flat = values.reshape(len(values), -1)
    index = equal_bin(flat, edges)
    if zeros_apart:
        index += 1
        index[flat == 0] = 0
    return index


def per_image_histograms_of(index, width):
    """Counts of bin indices (N, values) in `width` bins, per image, in one pass: (N, width)."""
    offsets = (np.arange(len(index)) * width)[:, None]
    return np.bincount((index + offsets).ravel(), minlength=len(index) * width).reshape(len(index), width)


def per_image_entropy(counts):
    """entropy_bits of each row of `counts`."""
    p = counts / counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(p), 0.0)
    return terms.sum(axis=1)


def fixed_width_entropy(values, width, extent=None):
    """Entropy, in bits, of each image's values (N, ...) on bins [k * width, (k + 1) * width),
    exact zeros in a bin of their own; any range, no edges needed. `extent`: (lowest, highest)
    non-zero value of the whole set these images belong to (default: these images'); where the
    bins between them are few, each image's are counted, else its values are sorted. Either way an
    image's number depends on its own values and `extent` alone."""
    flat = values.reshape(len(values), -1).astype(np.float64)
    n, m = flat.shape
    ids = np.clip(np.floor(flat / width), -2.0 ** 60, 2.0 ** 60).astype(np.int64)
    zero = flat == 0
    if extent is None:
        extent = (flat[~zero].min(), flat[~zero].max()) if not zero.all() else (0.0, 0.0)
    low, high = (int(np.clip(np.floor(bound / width), -2.0 ** 60, 2.0 ** 60)) for bound in extent)
    if high - low + 2 <= COUNTED_BINS:
        ids = np.clip(ids - (low - 1), 1, high - low + 1)
        ids[zero] = 0
        return per_image_entropy(per_image_histograms_of(ids, high - low + 2)) + 0.0
    ids[zero] = np.iinfo(np.int64).min
    ids.sort(axis=1)
    starts = np.ones_like(ids, dtype=bool)
    starts[:, 1:] = ids[:, 1:] != ids[:, :-1]
    first = np.flatnonzero(starts.ravel())
    p = np.diff(np.append(first, n * m)) / m
    return np.bincount(first // m, weights=-p * np.log2(p), minlength=n) + 0.0


COUNTED_BINS = 1 << 14  # fixed_width_entropy counts an image's bins up to this many, else sorts its values


@layer_measure
def entropy_bits(view):
    """Entropy of each image's values on fixed-width bins (1 / bins), the same for every model."""
    return fixed_width_entropy(view.values, 1 / view.bins, (view.edges[0], view.edges[-1]))


@layer_measure
def entropy_scaled_bits(view):
    """Entropy of each image's values on `bins` bins spanning the run's own range (scale-free)."""
    return per_image_entropy(per_image_histograms_of(view.index, len(view.edges)))


@layer_measure
def zero_fraction(view):
    return (view.values.reshape(len(view.values), -1) == 0).mean(axis=1)


@layer_measure
def mean(view):
    return view.values.reshape(len(view.values), -1).mean(axis=1, dtype=np.float64)


CHUNK = 128  # images per step of the vectorised correlations (bounds their memory)


def standardised(maps):
    """(N, P, C) maps centred and scaled per image and channel over positions P, in float64, and
    which channels vary (N, C); a constant channel is left at 0."""
    maps = maps.astype(np.float64)
    spread = maps.std(axis=1)
    varying = spread > 0
    return (maps - maps.mean(axis=1, keepdims=True)) / np.where(varying, spread, 1)[:, None, :], varying


@layer_measure
def channel_corr(view):
    """channel_corr of each image, vectorised."""
    values = view.values
    if values.ndim != 4:
        return np.full(len(values), np.nan)
    n, h, w, c = values.shape
    result = np.full(n, np.nan)
    apart = ~np.eye(c, dtype=bool)
    for start in range(0, n, CHUNK):
        z, varying = standardised(values[start:start + CHUNK].reshape(-1, h * w, c))
        corr = np.abs(np.clip(z.transpose(0, 2, 1) @ z / (h * w), -1, 1))
        pairs = varying[:, :, None] & varying[:, None, :] & apart
        count = pairs.sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            found = (corr * pairs).sum(axis=(1, 2)) / count
        result[start:start + CHUNK] = np.where((count > 0) & (h * w >= 2), found, np.nan)
    return result


@layer_measure
def input_corr(view):
    """input_corr of each image, vectorised."""
    values = view.values
    if values.ndim != 4 or (pooled := pooled_inputs(view.inputs, *values.shape[1:3])) is None:
        return np.full(len(values), np.nan)
    n, h, w, c = values.shape
    result = np.full(n, np.nan)
    for start in range(0, n, CHUNK):
        z, varying = standardised(values[start:start + CHUNK].reshape(-1, h * w, c))
        picture, flat = standardised(pooled[start:start + CHUNK].reshape(-1, h * w, 1))
        corr = np.abs(np.einsum("np,npc->nc", picture[..., 0], z) / (h * w))
        with np.errstate(invalid="ignore", divide="ignore"):
            found = (corr * varying).sum(axis=1) / varying.sum(axis=1)
        result[start:start + CHUNK] = np.where(varying.any(axis=1) & flat[:, 0], found, np.nan)
    return result


def pooled_inputs(inputs, height, width):
    """Inputs (N, H0, W0, C0), channels averaged, average-pooled to (N, height, width); None if
    the map's size does not divide the input's."""
    n, h0, w0, _ = inputs.shape
    if h0 % height or w0 % width:
        return None
    gray = inputs.mean(axis=-1, dtype=np.float64)
    return gray.reshape(n, height, h0 // height, width, w0 // width).mean(axis=(2, 4))


@layer_measure
def input_mi_bits(view):
    """Mutual information, in bits, between the input picture (channels averaged, pooled to the
    map's size) and the layer's value at the same position, over positions and channels: the
    plug-in estimate on binned values (the run's own bins of the layer, zeros apart; as many equal
    bins of [0, 1] for the input), biased upward where pairs are few beside the bins' product.
    NaN for a layer without a spatial map the input's size divides."""
    values = view.values
    if values.ndim != 4 or (pooled := pooled_inputs(view.inputs, *values.shape[1:3])) is None:
        return np.full(len(values), np.nan)
    n, channels = len(values), values.shape[-1]
    bins = len(view.edges) - 1
    pixel = np.clip((pooled * bins).astype(np.int64), 0, bins - 1).reshape(n, -1)
    unit = view.index
    joint = (unit.reshape(n, -1, channels) * bins + pixel[:, :, None]).reshape(n, -1)
    return (per_image_entropy(per_image_histograms_of(pixel, bins))
            + per_image_entropy(per_image_histograms_of(unit, bins + 1))
            - per_image_entropy(per_image_histograms_of(joint, (bins + 1) * bins)))


def _with_label(labels, values):
    """`values` where an image has a label, NaN where it has none."""
    return np.where(np.asarray(labels) != NO_LABEL, values, np.nan)


@output_measure
def accuracy(probabilities, labels):
    """1 where the most probable class is the label, else 0."""
    return _with_label(labels, (probabilities.argmax(axis=1) == labels).astype(float))


@output_measure
def softmax_entropy_bits(probabilities, labels):
    return per_image_entropy(np.asarray(probabilities, np.float64))


@output_measure
def p_label(probabilities, labels):
    """The probability given to the image's label."""
    return _with_label(labels, probabilities[np.arange(len(labels)), np.maximum(labels, 0)])
