"""The early-checkpoint comparison (the article's own next step: "use an early checkpoint of the
benchmark as the dummy"): each smaller model beside the largest model's checkpoint of matching
validation accuracy, and beside its best epoch."""

import functools
from pathlib import Path
from typing import NamedTuple

import numpy as np

from lib.activations import layer_reader, network
from lib.stats import round_floats
from lib.checkpoints import Checkpoints
from lib.cifar import input_channels
from lib.dynamics import (COMPARED, checkpoint_images, early_comparison, matched_epoch, replayed_images,
                          summary_verdict, values_of)
from lib.files import REPLAY_MEASURES
from lib.keys import OUTPUT
from lib.model import largest, trained_sizes
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


def early_checkpoints(files, params, cards, histories, train_metrics, probe):
    """{smaller model: the comparison with the largest model's matched checkpoints}: for each model
    trained here on fewer images than the largest, and each seed, the largest model's checkpoint
    whose validation accuracy is closest to the smaller model's best, compared with it on the
    COMPARED measures (see early_comparison). `files`: RunFiles; `cards`, `histories`,
    `train_metrics`: {model: {seed: ...}} of the replays, training histories and test metrics."""
    models, bins, seeds = params["models"], params["analysis"]["bins"], params["train"]["seeds"]
    top = largest(models)
    channels = input_channels(params["data"]["grayscale"])
    results, measured = {}, {}
    replays = functools.cache(load_arrays)  # each run's per-image measures, read once

    def checkpoint(seed, epoch):
        """The largest model's measures at one checkpoint of one seed, measured once for every smaller model."""
        if (seed, epoch) not in measured:
            model, _ = network(files.model(top, seed), models[top], channels, f"models.{top}")
            with Checkpoints(existing(files.checkpoint_file(top, seed), f"checkpoints of {top}")) as checkpoints:
                measured[seed, epoch] = checkpoint_images(model, cards[top][seed]["roles"], layer_reader(model),
                                                          checkpoints, epoch, probe, bins)
        return measured[seed, epoch]

    smaller = [m for m, size in trained_sizes(models).items() if m != top and size < models[top]["train_size"]]
    for small in smaller:
        roles = {"small": cards[small][seeds[0]]["roles"], "top": cards[top][seeds[0]]["roles"]}
        layers = {role: (roles["small"][role], roles["top"][role]) for role in roles["small"] if role != OUTPUT}
        sides = {"small": {}, "early": {}, "final": {}}
        epochs, accuracy = {}, {}
        for seed in seeds:
            target = train_metrics[small][seed]["val_accuracy"]
            epoch = matched_epoch(histories[top][seed], target)
            epochs[seed] = epoch
            accuracy[seed] = {"model": target, "checkpoint": next(
                float(row["val_accuracy"]) for row in histories[top][seed] if int(row["epoch"]) == epoch)}
            early = checkpoint(seed, epoch)
            for role, measure in COMPARED:
                key, (mine, theirs) = (role, measure), layers.get(role, (OUTPUT, OUTPUT))
                sides["early"].setdefault(key, []).append(values_of(early, role, theirs, measure))
                sides["small"].setdefault(key, []).append(replayed_images(
                    replays(files.replay(small, seed)), cards[small][seed]["best_epoch"],
                    OUTPUT if role == OUTPUT else mine, measure))
                sides["final"].setdefault(key, []).append(replayed_images(
                    replays(files.replay(top, seed)), cards[top][seed]["best_epoch"],
                    OUTPUT if role == OUTPUT else theirs, measure))
        stacked = {side: {key: np.stack(values) for key, values in found.items()} for side, found in sides.items()}
        measures = early_comparison(stacked["small"], stacked["early"], stacked["final"], layers,
                                    params["analysis"]["seed"], params["analysis"]["resamples"])
        results[small] = round_floats({
            "largest": top, "epochs": {str(seed): e for seed, e in epochs.items()},
            "val_accuracy": {"model": float(np.mean([a["model"] for a in accuracy.values()])),
                             "checkpoint": float(np.mean([a["checkpoint"] for a in accuracy.values()]))},
            "measures": measures, "verdict": summary_verdict(measures)})
        print(f"trace: {small} against {top} at epoch(s) {sorted(set(epochs.values()))}: "
              f"{results[small]['verdict']}", flush=True)
    return results
