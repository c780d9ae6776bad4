"""Trace every model over training: plot data of the replayed epochs, and the largest model's
early checkpoint set beside each smaller model (does it look like the smaller one?)."""

import functools
from pathlib import Path

import numpy as np

from lib.cifar import Images, input_channels
from lib.keys import OUTPUT
from lib.model import largest, trained_sizes
from lib.params import load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, existing, load_arrays, load_runs, read_csv, read_json, save_csv, save_json


class RunFiles:
    """Where one training run's files are: its model, checkpoints and replay."""

    def __init__(self, args, model, seed):
        self.model = Path(args.models) / model / f"{seed}.keras"
        self.checkpoints = Path(args.checkpoints) / model / f"{seed}.npz"
        self.replay = Path(args.dynamics) / model / str(seed) / "probe.npz"


def early_checkpoints(args, params, cards, histories, train_metrics, probe):
    """{smaller model: the comparison with the largest model's matched checkpoints}."""
    from lib.activations import layer_reader, network
    from lib.analysis import round_floats
    from lib.checkpoints import Checkpoints
    from lib.dynamics import (COMPARED, checkpoint_images, early_comparison, matched_epoch,
                              replayed_images, summary_verdict, values_of)

    models, bins, seeds = params["models"], params["analysis"]["bins"], params["train"]["seeds"]
    top = largest(models)
    channels = input_channels(params["data"]["grayscale"])
    results, measured = {}, {}
    replays = functools.cache(load_arrays)  # each run's per-image measures, read once

    def checkpoint(seed, epoch):
        """The largest model's measures at one checkpoint of one seed, measured once for every smaller model."""
        if (seed, epoch) not in measured:
            files = RunFiles(args, top, seed)
            model, _ = network(files.model, models[top], channels, f"models.{top}")
            with Checkpoints(existing(files.checkpoints, f"checkpoints of {top}")) as checkpoints:
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
                    replays(RunFiles(args, small, seed).replay), cards[small][seed]["best_epoch"],
                    OUTPUT if role == OUTPUT else mine, measure))
                sides["final"].setdefault(key, []).append(replayed_images(
                    replays(RunFiles(args, top, seed).replay), cards[top][seed]["best_epoch"],
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


def main():
    parser = stage_parser(__doc__)
    parser.add_argument("--dynamics", required=True, help="input folder: <model>/<seed>/{probe.npz,epochs.json}")
    parser.add_argument("--checkpoints", required=True, help="input folder: <model>/<seed>.npz")
    parser.add_argument("--models", required=True, help="input folder: <model>/<seed>.keras")
    parser.add_argument("--histories", required=True, help="input folder: <model>/<seed>.csv training histories")
    parser.add_argument("--train-metrics", required=True, help="input folder: <model>/<seed>.json")
    parser.add_argument("--probe", required=True, help="input .npz: the probe set")
    parser.add_argument("--metrics", required=True, help="output .json: the early-checkpoint comparisons")
    parser.add_argument("--plots", required=True, help="output folder: plot data (.csv) and a figure")
    args = parser.parse_args()
    params = load(args.params)

    from lib import figures
    from lib.dynamics import trajectory
    from lib.training import deterministic

    deterministic(params["analysis"]["seed"])  # inference as the replay ran it (op determinism, threads)

    cards = load_runs(args.dynamics, params, read_json, "replay", "/epochs.json")
    histories = load_runs(args.histories, params, read_csv, "training history", ".csv")
    train_metrics = load_runs(args.train_metrics, params, read_json, "test metrics", ".json")
    probe = Images.of(load_arrays(existing(args.probe, "probe set"))).seen(params["data"]["grayscale"])
    trained = {model: seeds for model, seeds in cards.items() if all(card["epochs"] for card in seeds.values())}
    measures, plane, cka = trajectory(trained)
    early = early_checkpoints(args, params, cards, histories, train_metrics, probe) if trained else {}
    with atomic_dir(args.plots) as folder:
        for name, rows in (("measures.csv", measures), ("plane.csv", plane), ("cka_to_best.csv", cka)):
            if rows:
                save_csv(Path(folder) / name, rows)
        if trained:
            figures.dynamics(Path(folder) / "dynamics.png", measures, plane, cka)
    save_json(args.metrics, {"early_checkpoint": early})


if __name__ == "__main__":
    run(main)
