"""Where each subject's predicted class finds its evidence, for one training run: integrated
gradients and Grad-CAM, each checked against the same map from the run's initial weights
(lib.attribution)."""

import json
from pathlib import Path

import numpy as np

from lib.cifar import Images, input_channels, label_name
from lib.files import ATTRIBUTION_CARD, ATTRIBUTION_MAPS
from lib.params import check_run, load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, existing, load_arrays, save_arrays


def main():
    parser = stage_parser(__doc__, training_run=True)
    parser.add_argument("--model", required=True, help="input .keras: the trained (or imported) model")
    parser.add_argument("--checkpoints", required=True, help="input .npz: the run's weights by epoch (epoch 0: the initial ones)")
    parser.add_argument("--subjects", required=True, help="input .npz: the subjects")
    parser.add_argument("--out", required=True, help="output folder: maps.npz (\"<subject>/<method>[/initial]\"), "
                                                     "attributions.json (the class explained, each map's checks)")
    args = parser.parse_args()
    params = load(args.params)
    check_run(params, args.name, args.seed)
    grayscale = params["data"]["grayscale"]
    subjects = Images.of(load_arrays(existing(args.subjects, "subjects"))).seen(grayscale)

    import keras

    from lib.activations import network
    from lib.attribution import explain, last_convolution
    from lib.checkpoints import Checkpoints, assign
    from lib.training import deterministic

    deterministic(args.seed)
    model, _ = network(args.model, params["models"][args.name], input_channels(grayscale), f"models.{args.name}")
    initial = None
    with Checkpoints(existing(args.checkpoints, "checkpoints")) as checkpoints:
        if 0 in checkpoints.epochs:
            initial = keras.models.clone_model(model)
            assign(initial, checkpoints.weights(0), f"{args.checkpoints}, epoch 0")
    context = {"layer": last_convolution(model), "steps": params["attribution"]["steps"]}
    probabilities = np.asarray(model.predict(subjects.inputs, batch_size=1, verbose=0), np.float64)
    maps, card = {}, {"model": args.name, "seed": args.seed, "grad_cam_layer": context["layer"],
                      "initial_weights": initial is not None, "subjects": {}}
    for name, image, label, scores in zip(subjects.names, subjects.inputs, subjects.labels, probabilities):
        target = int(scores.argmax())
        trained, untrained, facts = explain(model, initial, image, target, context)
        maps.update({f"{name}/{method}": value for method, value in trained.items()})
        maps.update({f"{name}/{method}/initial": value for method, value in untrained.items()})
        card["subjects"][name] = {"label": label_name(label), "predicted": label_name(target),
                                  "probability": round(float(scores[target]), 6), "methods": facts}
    with atomic_dir(args.out) as folder:
        save_arrays(Path(folder) / ATTRIBUTION_MAPS, **maps)
        (Path(folder) / ATTRIBUTION_CARD).write_text(json.dumps(card, indent=2) + "\n")
    flagged = [f"{name} {method}" for name, entry in card["subjects"].items()
               for method, facts in entry["methods"].items() if facts["passes"] is False]
    print(f"attribute: {args.name} seed {args.seed}: {len(subjects.names)} subjects, methods "
          f"{', '.join(trained)}; sanity check "
          + ("not possible (no initial weights: an imported model)" if initial is None else
             f"failed by {', '.join(flagged)}" if flagged else "passed by every map") + f" -> {args.out}")


if __name__ == "__main__":
    run(main)
