"""What zeroing one channel costs each class, after Zhou, Sun, Bau and Torralba 2018 ("Revisiting
the importance of individual units in CNNs via ablation"): a channel that barely moves overall
accuracy can cost a few classes much, and its class selectivity predicts that cost.

Per run, layer and channel zeroed alone (the ablate stage's outcomes, probe set):

- **Class drop**: each class's accuracy with nothing zeroed minus with the channel zeroed, and the
  **loss rise**: the rise of the class's mean loss (−log of the label's probability, floored at
  EPSILON), continuous where accuracy moves in steps of one image.
- **Most-hurt class**: the class whose accuracy drops most; classes tied on that are told apart by
  the larger loss rise, and classes still tied share the place equally (fractions), so no image
  or class order decides it. Its drop is the channel's **max-class drop**.
- **Selective class**: the class with the largest mean activity (Morcos' μmax); undefined where
  the selectivity is (a dead channel).
- **Hurt match**: the share of a layer's channels with a selective class whose most-hurt class is
  it. **Chance** comes from permuting the channels: pairing each channel's most-hurt class with
  another channel's selective class gives Σ_k H_k·S_k / n² on average exactly (H_k, S_k the
  channels, fractions summed, whose most-hurt and whose selective class is k; n channels), and
  PERMUTATIONS random pairings give its 95th percentile.
- **Spearman gap**: the rank correlation of selectivity with the max-class drop minus that with the
  overall drop (importance): positive where selectivity predicts the damage to one class better
  than the damage overall.

Baseline of the drops: random directions of the layer's space projected out instead (Morcos et
al.'s). A most-hurt class found from fewer distinct images (a bootstrap resample) is noisier, so it
agrees with the selective class less often and its drop is a larger maximum of noisier drops: the
resampled values of the CENTRED numbers (and each channel's max-class drop) are shifted to centre
on the estimate (a bias-corrected percentile interval, as lib.channels does for specificity). Intervals over seeds and probe images from the same bootstrap as lib.reliance's (the same
image draws and seed weights), so that differences between models are paired. Claim R3
(lib.claims) is judged at the roles JUDGED.
"""

import numpy as np

from lib.cifar import CLASSES
from lib.keys import interval, role_layer, spread, with_interval
from lib.model import LAST_CONV
from lib.reliance import class_means, importance, intact, selectivity_of
from lib.stats import (Resampling, centred, interval_text, nan_mean, over_seeds, paired_differences, round_floats,
                       seed_weighted, spearman_rows, with_bounds)

EPSILON = 1e-7  # Keras' floor on a probability inside a log loss
JUDGED = (LAST_CONV, "last_hidden")  # the roles at which claim R3 is judged and models compared
PERMUTATIONS = 1000  # random pairings of the channels behind the 95th percentile of the hurt match's chance
SUMMARIES = ("hurt_match", "hurt_match_over_chance", "mean_max_class_drop", "max_drop_spearman", "spearman_gap")
COMPARED = ("hurt_match_over_chance", "spearman_gap")  # differences between models at the roles JUDGED
CENTRED = ("hurt_match", "hurt_match_over_chance", "mean_max_class_drop")  # biased under resampling


def loss(p_label):
    """The loss of each image: −log of its label's probability, floored at EPSILON."""
    return -np.log(np.maximum(np.asarray(p_label, np.float64), EPSILON))


def per_class(cost, labels, weights):
    """(R, units, classes): each unit's mean `cost` (units, N) over each class's images, weighted
    by `weights` (R, N) image counts (NaN for a class none of whose images is drawn)."""
    found = np.full((len(weights), cost.shape[0], len(CLASSES)), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in np.unique(labels):
            w = weights[:, labels == k]
            found[:, :, k] = (w @ cost[:, labels == k].T) / w.sum(axis=1)[:, None]
    return found


def shared_max(values):
    """(..., classes) shares of each row's largest entries (ties share 1 equally); NaN rows stay NaN."""
    top = values == np.nanmax(np.where(np.isnan(values), -np.inf, values), axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):
        shares = top / top.sum(axis=-1, keepdims=True)
    return np.where(np.isnan(values).all(axis=-1, keepdims=True), np.nan, shares)


def most_hurt(drops, rises):
    """(..., classes) shares of the most-hurt class: the largest accuracy drop, ties on it broken by
    the larger loss rise, classes still tied sharing."""
    clean = np.nan_to_num(drops, nan=-np.inf)
    return shared_max(np.where(clean == clean.max(axis=-1, keepdims=True), np.nan_to_num(rises, nan=-np.inf), -np.inf))


def selective_class(means):
    """(R, channels, classes) shares of each channel's class of largest mean activity, from class
    means (R, classes, channels); NaN rows where the selectivity is undefined."""
    shares = shared_max(np.moveaxis(means, -2, -1))
    return np.where(np.isnan(selectivity_of(means))[..., None], np.nan, shares)


def hurt_match(hurt, selective):
    """(R, channels) the share of each channel's most-hurt class that is its selective class (NaN
    where that is undefined)."""
    return (hurt * selective).sum(axis=-1)


def match_chance(hurt, selective):
    """(R,) the hurt match's mean share with the channels paired at random: Σ_k H_k·S_k / n² over
    the channels with a selective class."""
    defined = ~np.isnan(selective).any(axis=-1)
    h, s = (np.where(defined[..., None], x, 0) for x in (hurt, np.nan_to_num(selective)))
    n = defined.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (h.sum(axis=-2) * s.sum(axis=-2)).sum(axis=-1) / n ** 2


def permuted_matches(hurt, selective, rng, draws=PERMUTATIONS):
    """(draws,) matched channels (fractions summed) with the selective classes of one run's
    channels (channels, classes) given to the channels in random orders."""
    defined = ~np.isnan(selective).any(axis=-1)
    h, s = hurt[defined], selective[defined]
    return np.array([(h * s[rng.permutation(len(s))]).sum() for _ in range(draws)])


def run_damage(run, labels, weights):
    """One run's layer, with the images weighted by `weights` (R, N): {"drops", "rises", "hurt",
    "selective" (R, channels, classes), "selectivity", "importance", "max_drop", "match" (R, channels),
    "chance" (R,), "direction_max_drop" (R, directions)}."""
    right = intact(run).astype(np.float64)
    drops = per_class(right[None] - run["single_correct"], labels, weights)
    rises = per_class(loss(run["single_p_label"]) - loss(run["p_label_intact"])[None], labels, weights)
    means = class_means(run["activity"], labels, weights)
    hurt, selective = most_hurt(drops, rises), selective_class(means)
    directions = per_class(right[None] - run["direction_correct"], labels, weights)
    return {"drops": drops, "rises": rises, "hurt": hurt, "selective": selective, "selectivity": selectivity_of(means),
            "importance": importance(intact(run), run["single_correct"], weights), "max_drop": np.nanmax(drops, axis=-1),
            "match": hurt_match(hurt, selective), "chance": match_chance(hurt, selective),
            "direction_max_drop": np.nanmax(directions, axis=-1)}


def run_numbers(found):
    """A layer's numbers from run_damage's arrays, each (R,)."""
    match, chance = nan_mean(found["match"]), found["chance"]
    rho_max = spearman_rows(found["selectivity"], found["max_drop"])
    rho_all = spearman_rows(found["selectivity"], found["importance"])
    return {"hurt_match": match, "hurt_match_chance": chance, "hurt_match_over_chance": match - chance,
            "mean_max_class_drop": nan_mean(found["max_drop"]), "max_drop_spearman": rho_max,
            "spearman_gap": rho_max - rho_all, "random_direction_max_class_drop": nan_mean(found["direction_max_drop"])}


def counts(found, rng):
    """A run's layer as counts of channels: with a selective class, matched, matched by chance (mean
    and 95th percentile of random pairings), and whose largest accuracy drop ties between classes."""
    hurt, selective, drops = found["hurt"][0], found["selective"][0], found["drops"][0]
    defined = ~np.isnan(selective).any(axis=-1)
    clean = np.nan_to_num(drops, nan=-np.inf)
    return {"hurt_defined": int(defined.sum()), "hurt_matched": float(np.nansum(found["match"][0])),
            "hurt_matched_chance": float(found["chance"][0] * defined.sum()),
            "hurt_matched_chance_p95": float(np.percentile(permuted_matches(hurt, selective, rng), 95)),
            "tied_on_accuracy": int(((clean == clean.max(axis=-1, keepdims=True)).sum(axis=-1) > 1).sum())}


def names(shares):
    """The classes a row of shares gives a place to, joined by "/" ("" where undefined)."""
    return "" if np.isnan(shares).any() else "/".join(CLASSES[k] for k in np.flatnonzero(shares > 0))


def channel_rows(run, point, resampled):
    """Per channel of one run's layer: its selective and most-hurt classes, the hurt match, the
    max-class drop with its interval over images, and the loss rises (the most-hurt class's, overall)."""
    drops = centred(resampled["max_drop"], point["max_drop"][0], axis=0)
    low, high = (np.nanpercentile(drops, q, axis=0) for q in (2.5, 97.5))
    overall = (loss(run["single_p_label"]) - loss(run["p_label_intact"])[None]).mean(axis=1)
    hurt_rise = np.nansum(point["hurt"][0] * point["rises"][0], axis=-1)
    return [{"selective_class": names(point["selective"][0][c]), "most_hurt": names(point["hurt"][0][c]),
             "hurt_match": float(point["match"][0][c]),
             **with_interval("max_class_drop", (float(point["max_drop"][0][c]), float(low[c]), float(high[c]))),
             "most_hurt_loss_rise": float(hurt_rise[c]), "loss_rise": float(overall[c])}
            for c in range(len(overall))]


def layer_damage(runs, labels, images, weights, rngs):
    """One model's layer over its seeds (`runs`: per seed, the ablate stage's arrays), resampled with
    `images` (R, N) and `weights` (R, seeds), `rngs` a random stream per seed -> (summary, {name:
    (R,) resampled}, per seed the channel rows, per seed the per-class rows)."""
    ones = np.ones((1, len(labels)))
    points = [run_damage(run, labels, ones) for run in runs]
    drawn = [run_damage(run, labels, images) for run in runs]
    per_seed = [{name: float(value[0]) for name, value in run_numbers(point).items()} for point in points]
    numbers = [run_numbers(d) for d in drawn]
    resampled = {name: seed_weighted(np.stack([n[name] for n in numbers], axis=1), weights) for name in SUMMARIES}
    over = over_seeds(per_seed)
    for name in CENTRED:
        if over[name] is not None:
            resampled[name] = centred(resampled[name], over[name])
    summary = {name: over[name] for name in ("hurt_match_chance", "random_direction_max_class_drop")}
    for name in SUMMARIES:
        summary.update({**with_interval(name, with_bounds(over[name], resampled[name])), spread(name): over[spread(name)]})
    found = [counts(point, rng) for point, rng in zip(points, rngs)]
    summary.update({name: float(np.mean([f[name] for f in found])) for name in found[0]})
    rows = [channel_rows(run, point, d) for run, point, d in zip(runs, points, drawn)]
    classes = [[{"channel": c, "class": CLASSES[k], "accuracy_drop": float(point["drops"][0][c, k]),
                 "loss_rise": float(point["rises"][0][c, k])}
                for c in range(point["drops"].shape[1]) for k in range(len(CLASSES))] for point in points]
    return summary, resampled, rows, classes


def damage_metrics(outcomes, roles, labels, resamples, seed):
    """Every model's per-class reliance, from `outcomes` {model: {seed: {layer: arrays}}} and `roles`
    {model: {role: layer}} (with LAST_CONV): ({"models": {model: {layer: summary}}, "pairs":
    lib.stats.paired_differences of COMPARED at the roles JUDGED}, channel rows, class rows)."""
    resampling = Resampling(len(labels), resamples, seed, "ablation")
    layers, resampled, channels, classes = {}, {}, [], []
    for model, runs in outcomes.items():
        seeds, weights = list(runs), resampling.seeds(model, len(runs))
        layers[model] = {}
        for layer in runs[seeds[0]]:
            rngs = [resampling.stream(f"hurt permutations {model} {s} {layer}") for s in seeds]
            layers[model][layer], resampled[model, layer], rows, per_class_rows = layer_damage(
                [runs[s][layer] for s in seeds], labels, resampling.images, weights, rngs)
            channels += [{"model": model, "seed": s, "layer": layer, "channel": c, **row}
                         for s, run_rows in zip(seeds, rows) for c, row in enumerate(run_rows)]
            classes += [{"model": model, "seed": s, "layer": layer, **row} for s, run_rows in zip(seeds, per_class_rows)
                        for row in run_rows]
    differences = paired_differences({model: {"layers": found} for model, found in layers.items()}, roles, COMPARED,
                                     lambda model, layer: resampled[model, layer], JUDGED)
    return {"models": layers, "pairs": differences}, channels, classes


def merged(metrics, channel_rows, damage, damage_rows, skipped=None):
    """lib.reliance's metrics and channel rows with the per-class numbers added and, per model, the
    layers that could not be ablated and why (`skipped`) (rounded)."""
    for model, reasons in (skipped or {}).items():
        metrics["models"][model]["skipped"] = reasons
    for model, layers in damage["models"].items():
        for layer, summary in layers.items():
            metrics["models"][model]["layers"][layer].update(summary)
    for pair, found in damage["pairs"].items():
        for key, numbers in found["difference"]["layers"].items():
            metrics["pairs"][pair]["difference"]["layers"].setdefault(key, {}).update(numbers)
    metrics["hurt_permutations"] = PERMUTATIONS
    by_channel = {(row["model"], row["seed"], row["layer"], row["channel"]): row for row in damage_rows}
    rows = [{**row, **{key: value for key, value in by_channel[row["model"], row["seed"], row["layer"], row["channel"]].items()
                       if key not in row}} for row in channel_rows]
    return round_floats(metrics), [round_floats(row) for row in rows]


def summary_lines(metrics):
    """What the score stage says of each model's last hidden layer."""
    lines = []
    for model, summary in metrics["models"].items():
        last = role_layer(summary, "last_hidden")
        numbers = summary["layers"][last]
        area, rho = (interval_text(interval(numbers, name)) for name in ("retained_area", "selectivity_importance_spearman"))
        lines.append(f"score: {model}: {last}: retained area {area}; Spearman of selectivity with importance {rho}; "
                     f"most-hurt class = selective class for {numbers['hurt_matched']:.4g} of "
                     f"{numbers['hurt_defined']:.4g} channels (chance {numbers['hurt_matched_chance']:.4g})")
    return lines

