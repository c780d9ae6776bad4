"""The early-checkpoint comparison (the article's own next step: "use an early checkpoint of the
benchmark as the dummy"): each smaller model beside the largest model's checkpoint of matching
validation accuracy, and beside its best epoch."""

import functools
from pathlib import Path
from typing import NamedTuple

import numpy as np

from lib.activations import layer_reader
from lib.checkpoints import Checkpoints
from lib.cifar import input_channels
from lib.dynamics import (COMPARED, checkpoint_images, early_comparison, matched_epoch, replayed_images,
                          summary_verdict, values_of)
from lib.files import REPLAY_MEASURES
from lib.keys import OUTPUT
from lib.model import largest, trained_sizes
from lib.network import network
from lib.stats import round_floats
from lib.store import existing, load_arrays


class RunFiles(NamedTuple):
    """The folders that hold every training run's model, checkpoints and replay (one entry per model
    and seed in each)."""

    models: Path
    checkpoints: Path
    dynamics: Path

    def model(self, model, seed):
        return Path(self.models) / model / f"{seed}.keras"

    def checkpoint_file(self, model, seed):
        return Path(self.checkpoints) / model / f"{seed}.npz"

    def replay(self, model, seed):
        return Path(self.dynamics) / model / str(seed) / REPLAY_MEASURES


class Runs(NamedTuple):
    """What the comparison reads of every run ({model: {seed: ...}}): the replays' cards, the training
    histories and test metrics, each run's replayed measures (`replays(path)`, read once) and the
    largest model's measures at a checkpoint (`checkpoint(seed, epoch)`, measured once)."""

    files: RunFiles
    cards: dict
    histories: dict
    train_metrics: dict
    replays: object
    checkpoint: object


def top_checkpoints(files, models, top, roles, probe, bins, channels):
    """(seed, epoch) -> the largest model's measures at that checkpoint, each measured once."""
    @functools.cache
    def checkpoint(seed, epoch):
        model, _ = network(files.model(top, seed), models[top], channels, f"models.{top}")
        with Checkpoints(existing(files.checkpoint_file(top, seed), f"checkpoints of {top}")) as checkpoints:
            return checkpoint_images(model, roles[seed], layer_reader(model), checkpoints, epoch, probe, bins)

    return checkpoint


def seed_sides(runs, small, top, seed, layers, sides):
    """One seed's values of the smaller model, the largest's matched checkpoint and its best epoch,
    added to `sides`; returns (the checkpoint's epoch, the two validation accuracies)."""
    history = runs.histories[top][seed]
    target = runs.train_metrics[small][seed]["val_accuracy"]
    epoch = matched_epoch(history, target)
    reached = next(float(row["val_accuracy"]) for row in history if int(row["epoch"]) == epoch)
    early = runs.checkpoint(seed, epoch)
    for role, measure in COMPARED:
        key, (mine, theirs) = (role, measure), layers.get(role, (OUTPUT, OUTPUT))
        sides["early"].setdefault(key, []).append(values_of(early, role, theirs, measure))
        for side, model, layer in (("small", small, mine), ("final", top, theirs)):
            sides[side].setdefault(key, []).append(replayed_images(
                runs.replays(runs.files.replay(model, seed)), runs.cards[model][seed]["best_epoch"],
                OUTPUT if role == OUTPUT else layer, measure))
    return epoch, {"model": target, "checkpoint": reached}


def comparison(runs, small, top, seeds, analysis):
    """One smaller model beside the largest's matched checkpoints and best epochs, over the seeds."""
    roles = {"small": runs.cards[small][seeds[0]]["roles"], "top": runs.cards[top][seeds[0]]["roles"]}
    layers = {role: (roles["small"][role], roles["top"][role]) for role in roles["small"] if role != OUTPUT}
    sides = {"small": {}, "early": {}, "final": {}}
    epochs, accuracy = {}, {}
    for seed in seeds:
        epochs[seed], accuracy[seed] = seed_sides(runs, small, top, seed, layers, sides)
    stacked = {side: {key: np.stack(values) for key, values in found.items()} for side, found in sides.items()}
    measures = early_comparison(stacked["small"], stacked["early"], stacked["final"], layers, analysis["seed"],
                                analysis["resamples"])
    return round_floats({
        "largest": top, "epochs": {str(seed): e for seed, e in epochs.items()},
        "val_accuracy": {side: float(np.mean([a[side] for a in accuracy.values()])) for side in ("model", "checkpoint")},
        "measures": measures, "verdict": summary_verdict(measures)})


def early_checkpoints(files, params, cards, histories, train_metrics, probe, say=lambda line: None):
    """{smaller model: the comparison with the largest model's matched checkpoints}: for each model
    trained here on fewer images than the largest, and each seed, the largest model's checkpoint
    whose validation accuracy is closest to the smaller model's best, compared with it on the
    COMPARED measures (see early_comparison). `files`: RunFiles; `cards`, `histories`,
    `train_metrics`: {model: {seed: ...}} of the replays, training histories and test metrics;
    `say` hears one line per smaller model."""
    models, seeds = params["models"], params["train"]["seeds"]
    top = largest(models)
    roles = {seed: card["roles"] for seed, card in cards[top].items()}
    checkpoint = top_checkpoints(files, models, top, roles, probe, params["analysis"]["bins"],
                                 input_channels(params["data"]["grayscale"]))
    runs = Runs(files, cards, histories, train_metrics, functools.cache(load_arrays), checkpoint)
    results = {}
    for small in [m for m, size in trained_sizes(models).items() if m != top and size < models[top]["train_size"]]:
        results[small] = comparison(runs, small, top, seeds, params["analysis"])
        say(f"trace: {small} against {top} at epoch(s) {sorted(set(results[small]['epochs'].values()))}: "
            f"{results[small]['verdict']}")
    return results
