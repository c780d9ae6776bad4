"""Trace every model over training: plot data of the replayed epochs, and the largest model's
early checkpoint set beside each smaller model (does it look like the smaller one?)."""

from pathlib import Path

from lib.cifar import Images
from lib.files import DYNAMICS_FIGURE, DYNAMICS_PLOTS, REPLAY_CARD
from lib.params import load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, existing, load_arrays, load_runs, read_csv, read_json, save_csv, save_json


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
    from lib.early import RunFiles, early_checkpoints
    from lib.training import deterministic

    deterministic(params["analysis"]["seed"])  # inference as the replay ran it (op determinism, threads)

    cards = load_runs(args.dynamics, params, read_json, "replay", f"/{REPLAY_CARD}")
    histories = load_runs(args.histories, params, read_csv, "training history", ".csv")
    train_metrics = load_runs(args.train_metrics, params, read_json, "test metrics", ".json")
    probe = Images.of(load_arrays(existing(args.probe, "probe set"))).seen(params["data"]["grayscale"])
    trained = {model: seeds for model, seeds in cards.items() if all(card["epochs"] for card in seeds.values())}
    measures, plane, cka = trajectory(trained)
    early = (early_checkpoints(RunFiles(args.models, args.checkpoints, args.dynamics), params, cards, histories,
                               train_metrics, probe, lambda line: print(line, flush=True)) if trained else {})
    with atomic_dir(args.plots) as folder:
        for name, rows in (("measures", measures), ("plane", plane), ("cka_to_best", cka)):
            if rows:
                save_csv(Path(folder) / DYNAMICS_PLOTS[name], rows)
        if trained:
            figures.dynamics(Path(folder) / DYNAMICS_FIGURE, measures, plane, cka)
    save_json(args.metrics, {"early_checkpoint": early})


if __name__ == "__main__":
    run(main)
