"""Train one model on its subset and keep the best validation epoch, or take in a model trained
elsewhere (models.<name>.keras); either way test it once on the test split."""

import shutil

from lib.checkpoints import save_checkpoints
from lib.model import imported
from lib.params import check_run, load, project_file, stage_parser
from lib.stage import run
from lib.store import atomic_path, load_arrays, save_csv, save_json, save_model


def main():
    parser = stage_parser(__doc__, training_run=True)
    parser.add_argument("--subset", required=True, help="input .npz: the training images (none for an imported model)")
    parser.add_argument("--val", required=True, help="input .npz: early-stopping images")
    parser.add_argument("--test", required=True, help="input .npz: images accuracy is reported on")
    parser.add_argument("--model", required=True, help="output .keras: the best validation epoch (or the import)")
    parser.add_argument("--checkpoints", required=True,
                        help="output .npz: every epoch's weights, epoch 0 the initial ones (none for an import)")
    parser.add_argument("--history", required=True, help="output .csv: one row per epoch")
    parser.add_argument("--metrics", required=True, help="output .json: accuracies and epochs")
    parser.add_argument("--timing", required=True,
                        help="log .json: seconds per epoch (not a DVC output: wall time is not reproducible)")
    args = parser.parse_args()
    params = load(args.params)
    check_run(params, args.name, args.seed)
    settings, recipe = params["models"][args.name], params["train"]
    label = f"{args.name} seed {args.seed}"
    splits = [load_arrays(path) for path in (args.subset, args.val, args.test)]
    source = project_file(f"models.{args.name}.keras", settings["keras"]) if imported(settings) else None

    from lib.training import HISTORY, deterministic, outcome, timing, training_run

    deterministic(args.seed, recipe["threads"])
    trained = training_run(settings, recipe, splits, params["data"]["grayscale"], label, source,
                           lambda line: print(line, flush=True))
    if source:
        with atomic_path(args.model) as tmp:
            shutil.copyfile(source, tmp)
    else:
        save_model(trained.model, args.model)
    save_checkpoints(args.checkpoints, trained.checkpoints)
    save_csv(args.history, trained.history, HISTORY)
    save_json(args.metrics, trained.metrics)
    save_json(args.timing, timing(trained.seconds))
    print(outcome(label, trained), flush=True)


if __name__ == "__main__":
    run(main)
