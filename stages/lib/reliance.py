"""Does a model lean on single channels? Cumulative ablation and class selectivity, after Morcos et
al. 2018, "On the importance of single directions for generalization" (ICLR).

Per training run and layer with channels (lib.model.channel_layers), on the probe set (the ablate
stage runs the networks, lib.ablation; this module scores what it found):

- **Ablation curve.** An increasing number of the layer's channels is zeroed (`lib.ablation.ablation_counts`:
  every count from 0 to all; a sparser grid, such as 0, 1, 2, 4, …, puts half of the area on its
  last two points and misstates it by up to 0.16 on known curves) in `ablation.orders` random orders, seeded, and the rest of the
  network is run on the stored activations of that layer, masked (not the layers below again).
  Per image and count: the share of orders in which the image is still classified right
  (`correct`) and the mean probability of its label (`p_label`).
- **Single-channel importance.** The accuracy lost when one channel alone is zeroed.
- **Class selectivity** of a channel (Morcos' index): (μmax − μ−max) / (μmax + μ−max) over the
  class-conditional means of its activity (its activation averaged over positions) on the probe
  images, μmax the largest class mean and μ−max the mean of the others. It is defined for
  non-negative activity (after a ReLU): a dead channel, or one with a negative class mean, is
  undefined (NaN in arrays, null in metrics), never 0.

Summaries, over seeds, with intervals from a bootstrap over seeds and then the same probe images:
the curve (accuracy by share of channels ablated); its **retained area**, the area under
(accuracy − chance) / (intact accuracy − chance) over the share ablated from 0 to 1 (1: nothing
lost until every channel is gone; a model that leans on few channels has a small area); the
**half-drop share**, the share ablated at which accuracy has fallen half way from the intact
accuracy to chance; and per layer the Spearman correlation of the channels' selectivity with
their importance.
"""

import numpy as np

from lib.cifar import CLASSES
from lib.keys import spread, with_interval
from lib.model import COMPARED_ROLES
from lib.stats import Resampling, over_seeds, paired_differences, round_floats, seed_weighted, spearman, spearman_rows, with_bounds

CHANCE = 1 / len(CLASSES)
CURVE_SUMMARIES = ("retained_area", "half_drop_share")
SHOWN = (*CURVE_SUMMARIES, "top_importance", "random_direction_top_importance", "mean_selectivity",
         "mean_selectivity_initial", "mean_selectivity_permuted",
         "selectivity_importance_spearman", "hurt_match", "hurt_match_chance", "hurt_match_over_chance",
         "mean_max_class_drop", "random_direction_max_class_drop", "max_drop_spearman",
         "spearman_gap")  # a layer's numbers the explorer shows, each beside its baseline (lib.damage: the last seven)
PERMUTATIONS = 20  # shuffles of the probe labels behind the permuted-label baseline of selectivity
PREDICTIVE = 0.3  # a rank correlation this large would make selectivity a (moderate) predictor of importance


def class_means(activity, labels, weights):
    """(R, classes present, channels): each channel's mean activity per class, the images weighted
    by `weights` (R, N) (ones: every image once)."""
    with np.errstate(divide="ignore", invalid="ignore"):  # a class no image of which is drawn: NaN
        return np.stack([(weights[:, labels == c] @ activity[labels == c]) / weights[:, labels == c].sum(axis=1)[:, None]
                         for c in np.unique(labels)], axis=1)


def selectivity_of(means):
    """Morcos' index from class means (..., classes, channels); NaN where undefined."""
    with np.errstate(divide="ignore", invalid="ignore"):
        top = means.max(axis=-2)
        rest = (means.sum(axis=-2) - top) / (means.shape[-2] - 1)
        index = (top - rest) / (top + rest)
    return np.where((means.min(axis=-2) >= 0) & (top > 0), index, np.nan)


def selectivity(activity, labels):
    """Each channel's class selectivity index, (channels,): `activity` (N, channels), `labels` (N,)."""
    return selectivity_of(class_means(activity, labels, np.ones((1, len(labels)))))[0]


def importance(correct, single_correct, weights=None):
    """Accuracy lost when each channel alone is zeroed: `correct` (N,) intact, `single_correct`
    (channels, N); `weights` (R, N) image counts give one row per resample."""
    lost = correct[None, :].astype(np.float64) - single_correct
    if weights is None:
        return lost.mean(axis=1)
    return (np.asarray(weights, np.float64) @ lost.T) / len(correct)


def shares(counts):
    return np.asarray(counts, np.float64) / counts[-1]


def retained(curve):
    """(…, counts) accuracy curves -> the share of the intact accuracy above chance kept at each point."""
    curve = np.asarray(curve, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        kept = (curve - CHANCE) / (curve[..., :1] - CHANCE)
    return np.where(curve[..., :1] > CHANCE, kept, np.nan)


def retained_area(counts, curve):
    """The area under `retained(curve)` over the share of channels ablated, 0 to 1."""
    kept, x = retained(curve), shares(counts)
    return ((kept[..., 1:] + kept[..., :-1]) / 2 * np.diff(x)).sum(axis=-1)


def half_drop_share(counts, curve):
    """The share ablated at which accuracy first falls half way from the intact accuracy to chance
    (linear between points); NaN where the intact accuracy is not above chance."""
    kept, x = retained(curve), shares(counts)
    kept = np.atleast_2d(kept)
    found = np.full(len(kept), np.nan)
    for row, values in enumerate(kept):
        below = np.flatnonzero(values <= 0.5)
        if np.isnan(values[0]) or not below.size:
            continue
        k = below[0]
        found[row] = x[k] - (0.5 - values[k]) * (x[k] - x[k - 1]) / (values[k - 1] - values[k])
    return found if np.ndim(curve) > 1 else found[0]


def resampled_curves(per_seed, images, seeds):
    """(R, counts) mean curves of a model: `per_seed` (seeds, counts, N) per-image values, `images`
    (R, N) image draws, `seeds` (R, seeds) seed weights."""
    per_seed_means = np.einsum("rn,skn->rsk", images, per_seed) / per_seed.shape[-1]
    return np.einsum("rs,rsk->rk", seeds, per_seed_means)


def curve_statistics(counts, curve):
    """The curve's summaries, for one curve or a stack of them."""
    return {"retained_area": retained_area(counts, curve), "half_drop_share": half_drop_share(counts, curve)}


def intact(run):
    """(N,) bool: the images the run classifies right with nothing ablated."""
    return run["correct"][0] == 1


def mean_of(values):
    """The mean over seeds of each seed's mean over its defined entries (NaN where none)."""
    return float(np.mean([np.nanmean(v) if np.isfinite(v).any() else np.nan for v in values]))


def baselines(runs, labels, permuted, selective, important):
    """A layer's mean selectivity and importance beside their baselines, means over seeds: selectivity
    of the untrained network (`activity_initial`) and with the labels permuted (`permuted` (P, N));
    the importance of a random direction of the layer's space (Morcos et al.) beside a channel's."""
    untrained = [selectivity(run["activity_initial"], labels) for run in runs]
    shuffled = [np.nanmean([np.nanmean(selectivity(run["activity"], p)) for p in permuted]) for run in runs]
    random = [importance(intact(run), run["direction_correct"]) for run in runs]
    return {"mean_selectivity": mean_of(selective), "mean_selectivity_initial": mean_of(untrained),
            "mean_selectivity_permuted": mean_of(shuffled),
            "undefined_selectivity": float(np.mean([np.isnan(s).sum() for s in selective])),
            "mean_importance": mean_of(important), "top_importance": float(np.mean([i.max() for i in important])),
            "random_direction_importance": mean_of(random),
            "random_direction_top_importance": float(np.mean([r.max() for r in random]))}


def layer_reliance(runs, labels, images, weights, permuted):
    """One model's layer over its seeds (`runs`: per seed, ablate_layer's arrays), resampled with
    `images` (R, N) image draws and `weights` (R, seeds) seed weights, `permuted` (P, N) the labels
    shuffled -> (summary, resampled curves (R, counts), curve rows, per seed the channel rows)."""
    counts = runs[0]["counts"]
    correct = np.stack([run["correct"] for run in runs]).astype(np.float64)  # (seeds, counts, N)
    p_label = np.stack([run["p_label"] for run in runs]).astype(np.float64)
    curve = correct.mean(axis=(0, 2))
    resampled = resampled_curves(correct, images, weights)
    per_seed = [curve_statistics(counts, c) for c in correct.mean(axis=2)]
    summary = {"channels": int(counts[-1])}
    for name, value in curve_statistics(counts, curve).items():
        summary.update(with_interval(name, with_bounds(value, curve_statistics(counts, resampled)[name])))
        summary[spread(name)] = over_seeds([{name: s[name]} for s in per_seed])[spread(name)]
    summary.update(with_interval("intact_accuracy", with_bounds(curve[0], resampled[:, 0])))
    selective = [selectivity(run["activity"], labels) for run in runs]
    important = [importance(intact(run), run["single_correct"]) for run in runs]
    rho = [spearman(s, i) for s, i in zip(selective, important)]
    rho_resampled = np.stack([spearman_rows(selectivity_of(class_means(run["activity"], labels, images)),
                                            importance(intact(run), run["single_correct"], images))
                              for run in runs], axis=1)  # (R, seeds)
    rho_mean = seed_weighted(rho_resampled, weights)
    name = "selectivity_importance_spearman"
    over = over_seeds([{name: r} for r in rho])
    summary.update({**with_interval(name, with_bounds(over[name], rho_mean)), spread(name): over[spread(name)]})
    summary.update(baselines(runs, labels, permuted, selective, important))
    low, high = (np.percentile(resampled, q, axis=0) for q in (2.5, 97.5))
    rows = [{"share": float(share), "channels_zeroed": int(count),
             **with_interval("accuracy", (float(curve[k]), float(low[k]), float(high[k]))),
             "retained": float(retained(curve)[k]), "p_label": float(p_label[:, k].mean())}
            for k, (share, count) in enumerate(zip(shares(counts), counts))]
    channels = [[{"channel": c, "selectivity": float(s[c]), "importance": float(i[c])} for c in range(len(s))]
                for s, i in zip(selective, important)]
    return summary, resampled, rows, channels


def reliance_metrics(outcomes, roles, labels, orders, resamples, seed):
    """Every model's reliance on its channels, from `outcomes` {model: {seed: {layer: arrays}}} and
    `roles` {model: {role: layer}}: (metrics, curve rows, channel rows). The metrics hold per model
    and layer the summaries (intervals over seeds and images), and per pair of models the
    difference a − b of the curve summaries at the first convolution and the last hidden layer,
    from the paired bootstrap."""
    resampling = Resampling(len(labels), resamples, seed, "ablation")
    shuffle = resampling.stream("labels permuted")
    permuted = np.stack([shuffle.permutation(labels) for _ in range(PERMUTATIONS)])
    models, resampled, counts, curve_rows, channel_rows = {}, {}, {}, [], []
    for model, runs in outcomes.items():
        seeds = list(runs)
        weights = resampling.seeds(model, len(seeds))
        layers = {}
        for layer in runs[seeds[0]]:
            per_seed = [runs[s][layer] for s in seeds]
            layers[layer], resampled[model, layer], rows, channels = layer_reliance(per_seed, labels, resampling.images,
                                                                                    weights, permuted)
            counts[model, layer] = per_seed[0]["counts"]
            curve_rows += [{"model": model, "layer": layer, **row} for row in rows]
            channel_rows += [{"model": model, "seed": s, "layer": layer, **row}
                             for s, per_channel in zip(seeds, channels) for row in per_channel]
        models[model] = {"roles": roles[model], "layers": layers}
    differences = paired_differences(models, roles, CURVE_SUMMARIES,
                                     lambda model, layer: curve_statistics(counts[model, layer], resampled[model, layer]),
                                     COMPARED_ROLES)
    metrics = {"orders": orders, "seeds": len(seeds), "models": models, "pairs": differences}
    return round_floats(metrics), [round_floats(row) for row in curve_rows], [round_floats(row) for row in channel_rows]
