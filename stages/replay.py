"""Replay one training run's checkpoints: the probe set and the subjects through each epoch
dynamics.epochs names (and the best), every registered measure of every layer at each."""

from pathlib import Path

from lib.cifar import Images
from lib.files import REPLAY_CARD, REPLAY_MEASURES
from lib.params import check_run, load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, existing, load_arrays, read_csv, read_json, save_arrays, save_json


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
    grayscale = params["data"]["grayscale"]
    history = {int(row["epoch"]): float(row["val_accuracy"]) for row in read_csv(existing(args.history, "history"))}
    best = read_json(existing(args.train_metrics, "training metrics"))["best_epoch"]

    from lib.activations import layer_reader
    from lib.network import run_network
    from lib.dynamics import replay_run

    model, roles = run_network(args.model, params, args.name, args.seed)
    subjects, probe = (Images.of(load_arrays(existing(path, what))).seen(grayscale)
                       for path, what in ((args.subjects, "subjects"), (args.probe, "probe set")))
    arrays, card = replay_run(model, layer_reader(model), existing(args.checkpoints, "checkpoints"), history, probe,
                              subjects, params, {"model": args.name, "seed": args.seed, "roles": roles, "best_epoch": best},
                              lambda line: print(f"replay: {args.name} seed {args.seed}: {line}", flush=True))
    with atomic_dir(args.out) as folder:
        save_arrays(Path(folder) / REPLAY_MEASURES, **arrays)
        save_json(Path(folder) / REPLAY_CARD, card)


if __name__ == "__main__":
    run(main)
