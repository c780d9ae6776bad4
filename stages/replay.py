"""Replay one training run's checkpoints: the probe set and the subjects through each epoch
dynamics.epochs names (and the best), every registered measure of every layer at each."""

import json
from pathlib import Path

from lib.cifar import Images, input_channels
from lib.files import REPLAY_CARD, REPLAY_MEASURES
from lib.params import check_run, load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, existing, load_arrays, read_csv, read_json, save_arrays


def main():
    parser = stage_parser(__doc__, training_run=True)
    parser.add_argument("--model", required=True, help="input .keras: the trained model (its architecture)")
    parser.add_argument("--checkpoints", required=True, help="input .npz: every epoch's weights")
    parser.add_argument("--history", required=True, help="input .csv: the training history")
    parser.add_argument("--train-metrics", required=True, help="input .json: the run's best epoch")
    parser.add_argument("--subjects", required=True, help="input .npz: the subjects")
    parser.add_argument("--probe", required=True, help="input .npz: the probe set")
    parser.add_argument("--out", required=True,
                        help="output folder: probe.npz (per-image measures by epoch), epochs.json (per epoch)")
    args = parser.parse_args()
    params = load(args.params)
    check_run(params, args.name, args.seed)
    grayscale, bins = params["data"]["grayscale"], params["analysis"]["bins"]
    label = f"{args.name} seed {args.seed}"
    history = {int(row["epoch"]): float(row["val_accuracy"]) for row in read_csv(existing(args.history, "history"))}
    best = read_json(existing(args.train_metrics, "training metrics"))["best_epoch"]

    from lib.activations import layer_reader, network
    from lib.checkpoints import Checkpoints
    from lib.dynamics import flatten, replay, replayed_epochs
    from lib.training import deterministic

    deterministic(args.seed)
    subjects, probe = (Images.of(load_arrays(existing(path, what))).seen(grayscale)
                       for path, what in ((args.subjects, "subjects"), (args.probe, "probe set")))
    model, roles = network(args.model, params["models"][args.name], input_channels(grayscale), f"models.{args.name}")
    with Checkpoints(existing(args.checkpoints, "checkpoints")) as checkpoints:
        epochs, unreached = replayed_epochs(params["dynamics"]["epochs"], checkpoints.epochs, best)
        arrays, rows = {}, []
        for epoch, images, summary in replay(model, roles, layer_reader(model), checkpoints, epochs, best, probe,
                                             subjects, bins):
            arrays.update(flatten(epoch, images))
            rows.append({"epoch": epoch, "val_accuracy": history.get(epoch), **summary})
            print(f"replay: {label}: epoch {epoch}: probe accuracy {summary['output']['accuracy']:.3f}, "
                  f"{roles['last_hidden']} entropy {summary['layers'][roles['last_hidden']]['entropy_bits']:.3f} "
                  "bits", flush=True)
    card = {"model": args.name, "seed": args.seed, "best_epoch": best if epochs else None,
            "last_epoch": max(checkpoints.epochs) if epochs else None, "unreached": unreached, "roles": roles,
            "epochs": sorted(rows, key=lambda row: row["epoch"])}
    with atomic_dir(args.out) as folder:
        save_arrays(Path(folder) / REPLAY_MEASURES, **arrays)
        (Path(folder) / REPLAY_CARD).write_text(json.dumps(card, indent=2) + "\n")
    if not epochs:
        print(f"replay: {label}: trained elsewhere, no checkpoints to replay")
    elif unreached:
        print(f"replay: {label}: stopped at epoch {card['last_epoch']}, so epochs {unreached} do not exist")


if __name__ == "__main__":
    run(main)
