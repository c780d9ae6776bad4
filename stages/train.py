"""Train one model on its subset and keep the best validation epoch, or take in a model trained
elsewhere (models.<name>.keras); either way test it once on the test split."""

import shutil

from lib.checkpoints import save_checkpoints
from lib.cifar import model_inputs
from lib.model import imported
from lib.params import check_run, load, project_file, stage_parser
from lib.stage import StageError, run
from lib.store import atomic_path, load_arrays, md5_of, save_csv, save_json, save_model


def train(model_settings, recipe, data, label):
    """A new network of the model's architecture, trained by the recipe: (model, metrics, history,
    checkpoints, seconds)."""
    from lib.model import build, precision_for
    from lib.training import device, fit

    (x, y), val, test = data
    where = device()
    precision = precision_for(recipe["precision"], device=where)
    model = build(model_settings, x.shape[-1], precision)
    print(f"{label}: {model_settings['architecture']}, {precision} on {where}, {len(x)} training images, "
          f"{len(val[0])} validation, {len(test[0])} test; {model.count_params()} parameters", flush=True)
    best = fit(model, (x, y), val, recipe, label=label)
    metrics = {"train_size": len(x), "precision": precision, "device": str(where), "epochs_run": len(best.history),
               "best_epoch": best.best_epoch, "val_accuracy": round(best.best_accuracy, 6)}
    return model, metrics, best.history, best.checkpoints, best.seconds


def take_in(path, subset, channels, label):
    """A model trained elsewhere, loaded safely and checked: (model, metrics)."""
    from lib.model import load_imported

    if md5_of(path) != str(subset["keras_md5"]):
        raise StageError(f"{path} changed since carve recorded it; run `dvc repro` again")
    model = load_imported(path, channels)
    print(f"{label}: imported from {path}; {model.count_params()} parameters", flush=True)
    return model, {"train_size": None, "precision": None, "device": None, "epochs_run": None, "best_epoch": None}


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
    settings, recipe, grayscale = params["models"][args.name], params["train"], params["data"]["grayscale"]
    label = f"{args.name} seed {args.seed}"
    subset, val, test = (load_arrays(path) for path in (args.subset, args.val, args.test))

    from lib.training import HISTORY, compile_reference, deterministic, one_hot

    deterministic(args.seed, recipe["threads"])
    x_val, x_test = (model_inputs(s["images"], grayscale) for s in (val, test))
    y_val, y_test = (one_hot(s["labels"]) for s in (val, test))
    source = project_file(f"models.{args.name}.keras", settings["keras"]) if imported(settings) else None
    if source:
        model, metrics = take_in(source, subset, x_val.shape[-1], label)
        compile_reference(model, recipe["learning_rate"])
        metrics["val_accuracy"] = round(float(model.evaluate(x_val, y_val, batch_size=recipe["batch_size"],
                                                             verbose=0)[1]), 6)
        history, checkpoints, seconds = [], {}, []
    else:
        data = ((model_inputs(subset["images"], grayscale), one_hot(subset["labels"])), (x_val, y_val),
                (x_test, y_test))
        model, metrics, history, checkpoints, seconds = train(settings, recipe, data, label)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=recipe["batch_size"], verbose=0)
    metrics.update(test_accuracy=round(float(test_accuracy), 6), test_loss=round(float(test_loss), 6))

    if source:
        with atomic_path(args.model) as tmp:
            shutil.copyfile(source, tmp)
    else:
        save_model(model, args.model)
    save_checkpoints(args.checkpoints, checkpoints)
    save_csv(args.history, history, HISTORY)
    save_json(args.metrics, metrics)
    save_json(args.timing, {"seconds_per_epoch": round(sum(seconds) / len(seconds), 2) if seconds else None,
                            "epochs_run": len(seconds), "seconds": seconds})
    print(f"{label}: " + (f"best epoch {metrics['best_epoch']} of {metrics['epochs_run']}, " if seconds else "")
          + f"val acc {metrics['val_accuracy']:.4f}, test acc {metrics['test_accuracy']:.4f}", flush=True)


if __name__ == "__main__":
    run(main)
