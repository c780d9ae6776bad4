"""Train the reference CNN on one model's subset; keep the best validation epoch; test it once."""

from lib.params import check_run, load, stage_parser
from lib.stage import run
from lib.store import load_arrays, save_csv, save_json, save_model


def main():
    parser = stage_parser(__doc__, training_run=True)
    parser.add_argument("--subset", required=True, help="input .npz: the training images")
    parser.add_argument("--val", required=True, help="input .npz: early-stopping images")
    parser.add_argument("--test", required=True, help="input .npz: images accuracy is reported on")
    parser.add_argument("--model", required=True, help="output .keras: the best validation epoch")
    parser.add_argument("--history", required=True, help="output .csv: one row per epoch")
    parser.add_argument("--metrics", required=True, help="output .json: accuracies and epochs")
    parser.add_argument("--timing", required=True,
                        help="log .json: seconds per epoch (not a DVC output: wall time is not reproducible)")
    args = parser.parse_args()
    params = load(args.params)
    check_run(params, args.name, args.seed)
    recipe, grayscale = params["train"], params["data"]["grayscale"]

    from lib.model import reference_cnn
    from lib.training import deterministic, fit, model_inputs, one_hot

    deterministic(args.seed)
    subset, val, test = (load_arrays(path) for path in (args.subset, args.val, args.test))
    x, x_val, x_test = (model_inputs(s["images"], grayscale) for s in (subset, val, test))
    y, y_val, y_test = (one_hot(s["labels"]) for s in (subset, val, test))
    model = reference_cnn(channels=x.shape[-1], precision=recipe["precision"])
    label = f"{args.name} seed {args.seed}"
    print(f"{label}: {len(x)} training images, {len(x_val)} validation, {len(x_test)} test; "
          f"{model.count_params()} parameters", flush=True)
    best = fit(model, (x, y), (x_val, y_val), recipe, label=label)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=recipe["batch_size"], verbose=0)

    metrics = {"train_size": len(x), "epochs_run": len(best.history), "best_epoch": best.best_epoch,
               "val_accuracy": round(best.best_accuracy, 6), "test_accuracy": round(float(test_accuracy), 6),
               "test_loss": round(float(test_loss), 6)}
    save_model(model, args.model)
    save_csv(args.history, best.history)
    save_json(args.metrics, metrics)
    save_json(args.timing, {"seconds_per_epoch": round(sum(best.seconds) / len(best.seconds), 2),
                            "epochs_run": len(best.seconds), "seconds": best.seconds})
    print(f"{label}: best epoch {best.best_epoch} of {len(best.history)}, val acc {metrics['val_accuracy']:.4f}, "
          f"test acc {metrics['test_accuracy']:.4f}", flush=True)


if __name__ == "__main__":
    run(main)
