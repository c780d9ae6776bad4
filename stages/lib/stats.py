"""The statistics every summary shares: named random streams, means over what is defined, bootstrap
intervals (over images, over seeds then images, paired between models), rank correlation, and the
summary of per-seed results. Numbers in, numbers out: no model, file or measure is known here, so
editing a measure or an ablation reruns no stage that only needs these.

Every interval is a 95 % percentile interval of resampled values. The hierarchical bootstrap draws
each model's seeds with replacement, then images with replacement, the same image draws for every
model (Resampling), so a difference between two models is paired: image-to-image variation common
to both cancels.
"""

import warnings
import zlib
from collections import Counter
from itertools import combinations

import numpy as np

from lib.keys import pair_key, role_key, spread, with_interval

LEVEL = 0.95  # every interval's coverage


def named_stream(seed, *names):
    """A random stream of `seed` of its own for each sequence of names (strings or integers), so that
    adding or removing one use of randomness moves no other's draws."""
    return np.random.default_rng([seed, *(zlib.crc32(n.encode()) if isinstance(n, str) else n for n in names)])


def defined(values):
    """`values` as float64 with the NaNs (undefined images) left out."""
    values = np.asarray(values, np.float64)
    return values[~np.isnan(values)]


def defined_mean(values):
    """The mean of the defined values; NaN if none is (the one rule for averaging over images and seeds)."""
    values = defined(values)
    return float(values.mean()) if values.size else float("nan")


def defined_means(stack):
    """defined_mean of each cell across the first axis of `stack` (e.g. per-seed matrices)."""
    stack = np.asarray(stack, np.float64)
    return np.reshape([defined_mean(cell) for cell in stack.reshape(len(stack), -1).T], stack.shape[1:])


def nan_mean(values, axis=-1):
    """The mean over the defined entries along `axis`; NaN where there are none."""
    values = np.asarray(values, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(values, axis=axis) / (~np.isnan(values)).sum(axis=axis)


def seed_weighted(resampled, weights):
    """(R,) the seed-weighted mean of per-seed resampled values (R, seeds), over the defined ones."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.nan_to_num(resampled) * weights).sum(axis=1) / ((~np.isnan(resampled)) * weights).sum(axis=1)


def percentile_interval(means, level=LEVEL):
    """(low, high): the central `level` of the resampled means (NaNs left out)."""
    tail = (1 - level) / 2 * 100
    low, high = np.nanpercentile(means, [tail, 100 - tail])
    return float(low), float(high)


def with_bounds(mean, resampled, level=LEVEL):
    """(mean, low, high): a number with the percentile interval of its resampled values."""
    if mean is None or np.isnan(mean) or np.isnan(resampled).all():
        return float("nan"), float("nan"), float("nan")
    return (float(mean), *percentile_interval(resampled, level))


def centred(resampled, estimate, axis=None):
    """Resampled values (along `axis`) shifted to centre on `estimate`: the bias-corrected percentile
    interval of a number that resampling biases (a top-k share or a maximum is larger when images repeat)."""
    return resampled - (np.nanmean(resampled, axis=axis) - estimate)


def bootstrap_ci(values, rng, resamples=1000, level=LEVEL):
    """Mean of `values` and a percentile bootstrap interval over them (NaNs left out)."""
    values = defined(values)
    if values.size == 0:
        return float("nan"), float("nan"), float("nan")
    means = values[rng.integers(0, values.size, (resamples, values.size))].mean(axis=1)
    return (defined_mean(values), *percentile_interval(means, level))


def paired_bootstrap_ci(a, b, rng, resamples=1000, level=LEVEL):
    """Mean of a − b and a percentile interval from a hierarchical, paired bootstrap.

    `a`, `b`: (seeds, images) per-image values of two models (or of a model and the input) on the
    same images. Each resample draws each side's seeds with replacement, averages the drawn seeds
    per image, then draws images with replacement, the same images for both sides, and takes the
    mean difference. Images undefined on either side are left out; (nan,)*3 if none is left. With
    one seed per side the interval covers images only."""
    a, b = np.atleast_2d(np.asarray(a, np.float64)), np.atleast_2d(np.asarray(b, np.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the mean of an all-NaN slice: NaN is the answer
        kept = ~(np.isnan(a).all(axis=0) | np.isnan(b).all(axis=0))
        a, b = a[:, kept], b[:, kept]
        if a.shape[1] == 0:
            return float("nan"), float("nan"), float("nan")
        images = rng.integers(0, a.shape[1], (resamples, a.shape[1]))
        sides = [np.nanmean(side[rng.integers(0, len(side), (resamples, len(side)))], axis=1) for side in (a, b)]
        means = np.nanmean(np.take_along_axis(sides[0] - sides[1], images, axis=1), axis=1)
        mean = float(np.nanmean(np.nanmean(a, axis=0) - np.nanmean(b, axis=0)))
    return (mean, *percentile_interval(means, level))


def ranks(values):
    """Ranks from 1, ties given their average rank."""
    order = np.argsort(values, kind="stable")
    ranked = np.empty(len(values))
    ranked[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values[np.isfinite(values)]):
        tied = values == value
        if tied.sum() > 1:
            ranked[tied] = ranked[tied].mean()
    return ranked


def spearman(x, y):
    """Spearman's rank correlation over the entries where both are defined; NaN with fewer than
    three such entries or where either side is constant."""
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3:
        return float("nan")
    rx, ry = ranks(x[keep]), ranks(y[keep])
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def spearman_rows(x, y):
    """spearman of each row pair of two (R, channels) arrays."""
    return np.array([spearman(a, b) for a, b in zip(x, y)])


def image_draws(images, rng, resamples):
    """(resamples, images) counts: how often each image is drawn in each bootstrap resample."""
    return np.stack([np.bincount(rng.integers(0, images, images), minlength=images) for _ in range(resamples)])


def seed_draws(seeds, rng, resamples):
    """(resamples, seeds) weights summing to 1: the seeds drawn with replacement in each resample."""
    return np.stack([np.bincount(rng.integers(0, seeds, seeds), minlength=seeds) for _ in range(resamples)]) / seeds


class Resampling:
    """The bootstrap shared by every model: the same image draws for all (so that differences
    between models are paired), each model's seeds drawn on a stream of its own; `what` names the
    measurement whose streams these are (each draws its own)."""

    def __init__(self, images, resamples, seed, what):
        self.resamples, self.seed, self.what = resamples, seed, what
        self.images = image_draws(images, self.stream("images"), resamples)

    def stream(self, name):
        """The random stream of one of this measurement's draws, by name."""
        return named_stream(self.seed, f"{self.what} {name}")

    def seeds(self, model, count):
        """(R, count) weights of a model's seeds in each resample."""
        return seed_draws(count, self.stream(f"seeds {model}"), self.resamples)


def first(runs):
    """Any one run (the layers and roles of a model are the same in all its seeds)."""
    return next(iter(runs.values()))


def pairs(models):
    """Every unordered pair of models, named "a_vs_b" in params order."""
    return {pair_key(a, b): (a, b) for a, b in combinations(models, 2)}


def over_seeds(results):
    """One summary of per-seed results (same keys): numbers -> mean and `<key>_seed_sd`;
    None where no seed has a number; anything else -> the most common value."""
    summary = {}
    for key, head in results[0].items():
        column = [result[key] for result in results]
        if isinstance(head, dict):
            summary[key] = over_seeds(column)
            continue
        found = [v for v in column if isinstance(v, (int, float)) and not isinstance(v, bool) and not np.isnan(v)]
        if found or all(v is None or isinstance(v, float) for v in column):
            summary[key] = defined_mean(found) if found else None
            summary[spread(key)] = float(np.std(found, ddof=1)) if len(found) > 1 else 0.0
        else:
            summary[key] = Counter(column).most_common(1)[0][0]
    return summary


def round_floats(node, digits=6):
    """Numbers rounded for readable metrics files (and diffs); NaN becomes None."""
    if isinstance(node, dict):
        return {key: round_floats(value, digits) for key, value in node.items()}
    if isinstance(node, float):
        return None if np.isnan(node) else round(node, digits)
    return node


def paired_differences(models, roles, names, resampled_of, compared):
    """Per pair of models, a − b of each of `names` at the roles `compared`, with the interval of the
    resampled differences: {pair: {"difference": {"layers": {role key: {name, name_low, name_high}}}}}.
    `models` {model: {"layers": {layer: {name: value}}}}; `resampled_of(model, layer)` -> {name: (R,)},
    drawn alike for every model (paired). A role whose layer either model lacks is left out."""
    differences = {}
    for pair, (a, b) in pairs(models).items():
        found = {}
        for role in compared:
            la, lb = roles[a].get(role), roles[b].get(role)
            if la not in models[a]["layers"] or lb not in models[b]["layers"]:
                continue
            ra, rb = resampled_of(a, la), resampled_of(b, lb)
            found[role_key(role, la, lb)] = {}
            for name in names:
                ma, mb = models[a]["layers"][la][name], models[b]["layers"][lb][name]
                found[role_key(role, la, lb)].update(with_interval(name, with_bounds(
                    np.nan if ma is None or mb is None else ma - mb, ra[name] - rb[name])))
        differences[pair] = {"difference": {"layers": found}}
    return differences


def interval_text(values, spec=".4g", undefined="undefined"):
    """A number with its interval as text, "m [low, high]" (`undefined` for no number)."""
    mean, low, high = values
    return undefined if mean is None else f"{mean:{spec}} [{low:{spec}}, {high:{spec}}]"
