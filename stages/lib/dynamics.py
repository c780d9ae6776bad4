"""Training dynamics: a run's checkpoints replayed on the probe set and the subjects and measured
at each replayed epoch exactly as the analysis measures the kept model (lib.analysis), and the
largest model's early checkpoint set beside each smaller model ("early checkpoint as dummy").

A replayed epoch keeps measures, never activations: per probe image every registered measure of
every layer and of the output (data/dynamics/<model>/<seed>/probe.npz, keyed
"<epoch>/layers/<layer>/<measure>" and "<epoch>/output/<measure>"), and per epoch their means over
the probe set, each layer's linear CKA with the same layer at the best epoch (the kept model), and
every subject's measures (epochs.json). The best epoch is always replayed: it is the CKA
reference, and the epoch the analysis stage measures.
"""


import numpy as np

from lib.analysis import Run, measure_images, subject_run
from lib.checkpoints import Checkpoints, assign
from lib.files import member
from lib.keys import OUTPUT, measured_key, with_interval
from lib.measures import centered_gram, cka_of_grams
from lib.params import EPOCH_NAMES
from lib.stats import defined_mean, named_stream, paired_bootstrap_ci, round_floats

BEST, LAST = EPOCH_NAMES

# The claims' measures that tell a model that saw less data from one that learned less: (role, measure).
COMPARED = (("last_hidden", "zero_fraction"), ("last_hidden", "mean"), ("last_hidden", "entropy_bits"),
            (OUTPUT, "softmax_entropy_bits"))
RESEMBLES, DIFFERS, UNDEFINED = "resembles", "differs", "undefined"


def replayed_epochs(wanted, saved, best):
    """(the epochs of `wanted` (numbers, "best", "last") the run saved, with `best` always among
    them, in order; the numbers it never reached)."""
    if not saved:
        return [], []
    named = {BEST: best, LAST: max(saved)}
    epochs = {named.get(epoch, epoch) for epoch in wanted} | {best}
    return sorted(epochs & set(saved)), sorted(epochs - set(saved))


def means(images):
    """{"layers": {layer: {measure: mean over images}}, "output": {...}} of measure_images' arrays."""
    return {"layers": {layer: {m: defined_mean(v) for m, v in measures.items()}
                       for layer, measures in images["layers"].items()},
            OUTPUT: {m: defined_mean(v) for m, v in images[OUTPUT].items()}}


def replay(model, roles, read, checkpoints, epochs, best, probe, subjects, bins):
    """Yield (epoch, per-image measures of the probe set, summary) for each of `epochs`, the best
    first; `read` is lib.activations.layer_reader(model). One checkpoint's activations are held at a
    time, besides the best epoch's Gram matrices (the CKA reference). Nothing for a run without
    checkpoints (a model trained elsewhere)."""
    if not epochs:
        return
    layers, reference = None, None
    for epoch in [best] + [e for e in epochs if e != best]:
        assign(model, checkpoints.weights(epoch), f"{checkpoints.path}, epoch {epoch}")
        acts = read(probe.inputs)
        layers = layers or list(acts)
        run = Run(layers, roles, acts)
        images = measure_images(run, probe.inputs, bins, probe.labels)
        grams = {layer: centered_gram(acts[layer]) for layer in layers}
        reference = reference or grams
        del run, acts
        summary = means(images)
        for layer in layers:
            summary["layers"][layer]["cka_to_best"] = cka_of_grams(grams[layer], reference[layer])
        del grams
        seen = Run(layers, roles, read(subjects.inputs, 1))
        summary["subjects"] = {name: subject_run(seen.rows(slice(i, i + 1)), subjects.inputs[i:i + 1], bins,
                                                 int(subjects.labels[i]))
                               for i, name in enumerate(subjects.names)}
        yield epoch, images, round_floats(summary)


def replay_run(model, read, path, history, probe, subjects, params, facts, say):
    """One run's checkpoints replayed (see replay): the epochs dynamics.epochs names, and the best,
    from the checkpoints at `path`; `history` {epoch: validation accuracy}; `facts` {"model", "seed",
    "roles", "best_epoch"}. Returns ({image_key: per-image values}, the card); `say` hears a line per
    epoch, and why none or fewer were replayed."""
    roles, best, last = facts["roles"], facts["best_epoch"], facts["roles"]["last_hidden"]
    with Checkpoints(path) as checkpoints:
        epochs, unreached = replayed_epochs(params["dynamics"]["epochs"], checkpoints.epochs, best)
        arrays, rows = {}, []
        for epoch, images, summary in replay(model, roles, read, checkpoints, epochs, best, probe, subjects,
                                             params["analysis"]["bins"]):
            arrays.update(flatten(epoch, images))
            rows.append({"epoch": epoch, "val_accuracy": history.get(epoch), **summary})
            say(f"epoch {epoch}: probe accuracy {summary[OUTPUT]['accuracy']:.3f}, "
                f"{last} entropy {summary['layers'][last]['entropy_bits']:.3f} bits")
    card = {"model": facts["model"], "seed": facts["seed"], "best_epoch": best if epochs else None,
            "last_epoch": max(checkpoints.epochs) if epochs else None, "unreached": unreached, "roles": roles,
            "epochs": sorted(rows, key=lambda row: row["epoch"])}
    if not epochs:
        say("trained elsewhere, no checkpoints to replay")
    elif unreached:
        say(f"stopped at epoch {card['last_epoch']}, so epochs {unreached} do not exist")
    return arrays, card


def image_key(epoch, layer, measure):
    """The key of a per-image measure in probe.npz; `layer` "output" for the output measures."""
    return member(f"{epoch:03d}", OUTPUT, measure) if layer == OUTPUT else member(f"{epoch:03d}", "layers", layer, measure)


def flatten(epoch, images):
    """measure_images' arrays of one epoch as {image_key: array}."""
    arrays = {image_key(epoch, OUTPUT, m): v for m, v in images[OUTPUT].items()}
    arrays.update({image_key(epoch, layer, m): v for layer, measures in images["layers"].items()
                   for m, v in measures.items()})
    return arrays


def replayed_images(arrays, epoch, layer, measure):
    """One per-image measure of one replayed epoch, from the arrays of a probe.npz the replay wrote."""
    key = image_key(epoch, layer, measure)
    if key not in arrays:
        raise KeyError(f"the replay holds no {key}")
    return arrays[key]


def matched_epoch(history, target):
    """The epoch (1 on) of a training history whose validation accuracy is closest to `target`,
    the earliest of ties."""
    return min((abs(float(row["val_accuracy"]) - target), int(row["epoch"])) for row in history)[1]


def verdict(early):
    """Whether a smaller model resembles the early checkpoint on one measure: its difference's interval."""
    _, low, high = early
    if low is None or high is None or np.isnan(low) or np.isnan(high):
        return UNDEFINED
    return RESEMBLES if low <= 0 <= high else DIFFERS


def progress(early, final):
    """Where the smaller model sits on the way from the early checkpoint (0) to the largest model's
    best epoch (1), from its differences to each (small − early, small − final): (small − early) /
    (final − early). Between 0 and 1: between the two; below 0: beyond the checkpoint, away from the
    best epoch; above 1: beyond the best epoch. NaN where the two sides are equal."""
    if np.isnan(early) or np.isnan(final) or early == final:
        return float("nan")
    return early / (early - final)


def early_comparison(small, early, final, layers, seed, resamples):
    """The smaller model against the largest's matched early checkpoints and against its best epoch,
    on every COMPARED measure: means, and the paired, seed-aware differences small − other.

    `small`, `early`, `final`: {(role, measure): (seeds, images) per-image values}; `layers`:
    {role: (small's layer, the largest's layer)}."""
    measures = {}
    for role, measure in COMPARED:
        key = (role, measure)
        to_early = paired_bootstrap_ci(small[key], early[key], named_stream(seed, measure), resamples)
        to_final = paired_bootstrap_ci(small[key], final[key], named_stream(seed, measure), resamples)
        name = measured_key(role, *layers.get(role, (OUTPUT, OUTPUT)))
        measures[f"{name}.{measure}"] = {
            "model": float(np.nanmean(small[key])), "checkpoint": float(np.nanmean(early[key])),
            "largest": float(np.nanmean(final[key])),
            **with_interval("minus_checkpoint", to_early), **with_interval("minus_largest", to_final),
            "progress": progress(to_early[0], to_final[0]), "verdict": verdict(to_early)}
    return measures


def summary_verdict(measures):
    """One sentence from the per-measure verdicts."""
    said = {key: m["verdict"] for key, m in measures.items()}
    alike = [key for key, v in said.items() if v == RESEMBLES]
    if len(alike) == len(said):
        return RESEMBLES
    if not alike:
        return DIFFERS
    return "mixed"


def checkpoint_images(model, roles, read, checkpoints, epoch, probe, bins):
    """Every measure of the role layers and the output, per probe image, at one checkpoint."""
    assign(model, checkpoints.weights(epoch), f"{checkpoints.path}, epoch {epoch}")
    acts = read(probe.inputs)
    hidden = [layer for role, layer in roles.items() if role != OUTPUT]
    return measure_images(Run(hidden, roles, acts), probe.inputs, bins, probe.labels)


def values_of(images, role, layer, measure):
    """One (images,) measure of a role layer (or the output) from measure_images' result."""
    return images[OUTPUT][measure] if role == OUTPUT else images["layers"][layer][measure]


def trajectory(cards):
    """Plot rows from every run's epochs.json ({model: {seed: card}}): (the last hidden layer's
    measures and the output's by epoch, long: one row per measure; the information plane: probe
    accuracy and the last hidden layer's entropy by epoch; each layer's CKA with the best epoch)."""
    measures, plane, cka = [], [], []
    for model, seeds in cards.items():
        for seed, card in seeds.items():
            last = card["roles"]["last_hidden"]
            for row in card["epochs"]:
                at = {"model": model, "seed": seed, "epoch": row["epoch"]}
                hidden = row["layers"][last]
                measures += [{**at, "measure": f"{last} {m}", "value": v} for m, v in hidden.items()]
                measures += [{**at, "measure": f"output {m}", "value": v} for m, v in row[OUTPUT].items()]
                if row["val_accuracy"] is not None:
                    measures.append({**at, "measure": "validation accuracy", "value": row["val_accuracy"]})
                plane.append({**at, "probe_accuracy": row[OUTPUT]["accuracy"],
                              "last_hidden_entropy_bits": hidden["entropy_bits"]})
                cka += [{**at, "layer": layer, "cka_to_best": values["cka_to_best"]}
                        for layer, values in row["layers"].items()]
    return measures, plane, cka
