"""What a channel responds to, from data: the images of the official test split that excite it
most (dataset examples, as in Zeiler & Fergus 2014 and OpenAI Microscope), the input patch each
one's peak sees (its receptive field: lib.fields), and the classes of its top images.

A channel's response to an image is its maximum over the layer's positions (its value, for a
layer without spatial axes). Images are ranked by it, highest first; the images shown are taken
in that order, ties by the lower index in the official test split, and how many images tie at
the last place kept is reported. A channel whose response is the same on every image (dead after
its ReLU, or constant) has no examples worth the name: it is `constant`, and its class tally is
undefined (NaN in arrays, null in metrics).

Class tally and specificity of a channel: the classes of its `tally` top images, the images tied
at the last place sharing the places left equally (uniform regions saturate many images to the
same peak: a tally by image order would be one of the image order), and the share of them in
their most frequent class. A layer's specificity is the mean over its channels that are not
constant. Two baselines beside it: **chance**, the specificity of `tally` images drawn at random
from the labelled images (for 100 of CIFAR-10's balanced test images about 0.15, not 0.1: the
most frequent of ten classes in a small sample is above its share), computed by drawing from the
actual labels; and the **untrained network**, the same measure for the network's initial weights.
"""

import numpy as np

from lib.cifar import CLASSES
from lib.fields import box
from lib.files import by_owner
from lib.keys import interval, interval_keys, role_layer, spread, with_interval
from lib.model import COMPARED_ROLES
from lib.stats import (Resampling, centred, interval_text, over_seeds, paired_differences, round_floats, seed_weighted,
                       with_bounds)
from lib.store import load_arrays

LOOKAHEAD = 3  # a resample's top k is sought in the ranking's first LOOKAHEAD * k images (all, if too few are drawn)


def stored_peaks(path, what="peak"):
    """{layer: (N, channels) peaks} of a run's examples file (`what`: "peak" or "peak_initial")."""
    return {layer: found[what] for layer, found in by_owner(load_arrays(path)).items() if what in found}


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


def last_kept(peak, k):
    """(channels,) the k-th largest response of each channel: the value at the last place kept."""
    return -np.partition(-np.asarray(peak, np.float64), k - 1, axis=0)[k - 1]


def tied(peak, k):
    """(channels,) how many images share the k-th place's response (1: no tie there)."""
    return (np.asarray(peak, np.float64) == last_kept(peak, k)).sum(axis=0)


def class_tally(peak, labels, k):
    """(channels, classes) float counts of the classes among each channel's top k images, the
    images tied at the k-th place sharing its remaining places equally: the same whatever the
    images' order."""
    peak = np.asarray(peak, np.float64)
    last = last_kept(peak, k)
    above, at = peak > last, peak == last
    share = above + at * ((k - above.sum(axis=0)) / at.sum(axis=0))
    return share.T @ np.eye(len(CLASSES))[labels]


def specificity(tally, dead):
    """(channels,) the share of a channel's top images in its most frequent class; NaN where `dead`."""
    share = tally.max(axis=1) / tally.sum(axis=1)
    return np.where(dead, np.nan, share)


def tie_groups(values):
    """(starts, sizes) of the runs of equal values in a ranked (non-increasing) list."""
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    return starts, np.diff(np.r_[starts, len(values)])


def drawn_tally(values, ranked_labels, k, drawn):
    """(R, classes) each resample's tally of its top k from `drawn` (R, n) counts of the ranked
    images, whose responses are `values` (n,): a group of tied images shares what it gets."""
    starts, sizes = tie_groups(values)
    group = drawn if len(starts) == len(values) else np.add.reduceat(drawn, starts, axis=1)
    taken = np.clip(k - (np.cumsum(group, axis=1) - group), 0, group)
    if len(starts) == len(values):  # no ties: each image takes what is left, up to its draws
        return taken @ np.eye(len(CLASSES))[ranked_labels]
    fraction = np.divide(taken, group, out=np.zeros(group.shape), where=group > 0)
    return (drawn * np.repeat(fraction, sizes, axis=1)) @ np.eye(len(CLASSES))[ranked_labels]


def resampled_specificity(peak, order, labels, k, draws):
    """(R, channels) specificity with the images drawn (R, N) counts: each resample's top k of the
    drawn images (an image drawn twice counts twice, tied images share), from `peak` (N, channels)
    and its ranking `order` (channels, N)."""
    reach = min(order.shape[1], LOOKAHEAD * k)
    found = np.empty((len(draws), len(order)))
    peak, by_image = np.asarray(peak, np.float64), np.ascontiguousarray(np.asarray(draws).T)
    for c, ranked in enumerate(order):
        values = peak[ranked, c]
        if by_image[ranked[:reach]].sum(axis=0).min() >= k:
            end = np.searchsorted(-values, -values[reach - 1], side="right")  # the whole tie at the cut
            ranked, values = ranked[:end], values[:end]
        counts = drawn_tally(values, labels[ranked], k, np.ascontiguousarray(by_image[ranked].T))
        found[:, c] = counts.max(axis=1) / counts.sum(axis=1)
    return found


def chance_specificity(labels, k, draws, rng):
    """(mean, 95th percentile) of the share of the most frequent class among k images drawn at random,
    without replacement, from `labels`: the class specificity of a channel blind to class."""
    found = np.array([np.bincount(labels[rng.choice(len(labels), k, replace=False)], minlength=len(CLASSES)).max()
                      for _ in range(draws)]) / k
    return float(found.mean()), float(np.percentile(found, 95))


def examples(peak, where, labels, top, tally):
    """One layer's dataset examples from its `peaks`: {"rank" (channels, top) image rows, "value",
    "where" (flat position), "tally" (channels, classes), "tied" (channels, 2) the images tied at the
    last place shown and at the last place tallied, "constant" (channels,)}."""
    best = ranking(peak)[:, :top]
    columns = np.arange(peak.shape[1])[:, None]
    return {"rank": best, "value": peak[best, columns], "where": where[best, columns],
            "tally": class_tally(peak, labels, tally), "tied": np.stack([tied(peak, top), tied(peak, tally)], axis=1),
            "constant": constant(peak)}


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
    the top `tally` images and the images `tied` at the last place shown and tallied; which channels
    are `constant`; and every image's `peak`. `shape` is the
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
            "box": boxes, "tally": found["tally"], "tied": found["tied"], "constant": found["constant"],
            "peak": peak.astype(np.float32)}


SPECIFICITY, INITIAL, OVER_INITIAL, OVER_CHANCE = ("class_specificity", "class_specificity_initial",
                                                  "class_specificity_over_initial", "class_specificity_over_chance")
CHANCE_DRAWS = 10000  # random draws of `tally` labels behind the chance level


def layer_specificity(runs, labels, k, images, weights, name=SPECIFICITY):
    """One model's layer over its seeds (`runs`: per seed, the layer's (N, channels) peaks) ->
    (summary of `name` with the interval over seeds and images, (R,) resampled means).

    An image drawn twice in a resample counts twice among its top k, which makes a top-k share
    larger under resampling than it is: the resampled means are shifted to centre on the estimate
    (a bias-corrected percentile interval)."""
    per_seed, resampled = [], []
    for peak in runs:
        dead = constant(peak)
        per_seed.append(float(np.nanmean(specificity(class_tally(peak, labels, k), dead))) if not dead.all()
                        else np.nan)
        alive = ~dead
        found = resampled_specificity(peak[:, alive], ranking(peak)[alive], labels, k, images) if alive.any() else \
            np.full((len(images), 1), np.nan)
        resampled.append(found.mean(axis=1))
    resampled = np.stack(resampled, axis=1)  # (R, seeds)
    means = seed_weighted(resampled, weights)
    over = over_seeds([{name: value} for value in per_seed])
    if over[name] is not None:
        means = centred(means, over[name])
    return {**with_interval(name, with_bounds(over[name], means)), spread(name): over[spread(name)]}, means


def tie_summary(runs, k):
    """The images tied at the k-th place over a layer's live channels: median and largest, mean over seeds."""
    counts = [tied(peak, k)[~constant(peak)] for peak in runs]
    return {"tied_at_tally_median": float(np.mean([np.median(c) if c.size else np.nan for c in counts])),
            "tied_at_tally_max": float(np.mean([c.max() if c.size else np.nan for c in counts]))}


def shifted(summary, name, by, new):
    """`name` with its interval, less `by`, as `new`."""
    return with_interval(new, tuple(None if value is None else value - by for value in interval(summary, name)))


def model_specificity(runs, initial, labels, k, resampling, weights, chance):
    """One model's layers ({layer: summary}, {layer: {name: (R,) resampled}}): specificity, the untrained
    network's, their difference (paired), and the specificity over chance."""
    layers, resampled = {}, {}
    for layer in runs[0]:
        trained, r_trained = layer_specificity([run[layer] for run in runs], labels, k, resampling.images, weights)
        untrained, r_initial = layer_specificity([run[layer] for run in initial], labels, k, resampling.images,
                                                 weights, INITIAL)
        gain = None if trained[SPECIFICITY] is None or untrained[INITIAL] is None else \
            trained[SPECIFICITY] - untrained[INITIAL]
        layers[layer] = {**trained, **untrained, **with_interval(OVER_INITIAL, with_bounds(gain, r_trained - r_initial)),
                         **shifted(trained, SPECIFICITY, chance, OVER_CHANCE), **tie_summary([run[layer] for run in runs], k),
                         "channels": int(runs[0][layer].shape[1]),
                         "constant_channels": float(np.mean([constant(run[layer]).sum() for run in runs]))}
        resampled[layer] = {SPECIFICITY: r_trained, OVER_INITIAL: r_trained - r_initial}
    return layers, resampled


def specificity_metrics(peaks_by_run, initial_by_run, roles, labels, k, resamples, seed, sanity=None):
    """Every model's class specificity per layer beside its baselines, from `peaks_by_run` {model: {seed:
    {layer: (N, channels) peaks}}}, the same of the untrained networks `initial_by_run`, and `roles`
    {model: {role: layer}}; the chance level; the paired difference of every pair of models at the
    first convolution and the last hidden layer, of the specificity and of its gain over the untrained
    network; and per model its maps' `sanity` check (lib.attribution.sanity_summary), where given."""
    resampling = Resampling(len(labels), resamples, seed, "examples")
    chance, p95 = chance_specificity(labels, k, CHANCE_DRAWS, resampling.stream("chance"))
    models, resampled = {}, {}
    for model, runs in peaks_by_run.items():
        seeds = list(runs)
        layers, found = model_specificity([runs[s] for s in seeds], [initial_by_run[model][s] for s in seeds], labels,
                                          k, resampling, resampling.seeds(model, len(seeds)), chance)
        resampled.update({(model, layer): value for layer, value in found.items()})
        models[model] = {"roles": roles[model], "layers": layers, **({"attribution": sanity[model]} if sanity else {})}
    differences = paired_differences(models, roles, (SPECIFICITY, OVER_INITIAL), lambda model, layer: resampled[model, layer],
                                     COMPARED_ROLES)
    return round_floats({"top": k, "seeds": len(seeds), "chance": {SPECIFICITY: chance, f"{SPECIFICITY}_p95": p95},
                         "models": models, "pairs": differences})


def specificity_rows(metrics):
    """The plot rows of specificity_metrics: per model and layer, the specificity with its interval
    beside the untrained network's and chance."""
    keys = (*interval_keys(SPECIFICITY), INITIAL, "channels")
    return [{"model": model, "layer": layer, **{key: m[key] for key in keys}, "chance": metrics["chance"][SPECIFICITY]}
            for model, summary in metrics["models"].items() for layer, m in summary["layers"].items()]


def summary_lines(metrics):
    """What the tally stage says of each model's last hidden layer and its maps' sanity check."""
    chance, lines = metrics["chance"][SPECIFICITY], []
    for model, summary in metrics["models"].items():
        last = role_layer(summary, "last_hidden")
        numbers = summary["layers"][last]
        flagged = {method: f"{s['flagged']} of {s['maps']}" for method, s in summary.get("attribution", {}).items()}
        lines.append(f"tally: {model}: {last}: class specificity of the top images "
                     f"{interval_text(interval(numbers, SPECIFICITY))} (untrained {numbers[INITIAL]:.4g}, chance "
                     f"{chance:.4g}); maps flagged by the sanity check: {flagged}")
    return lines

