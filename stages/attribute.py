"""Where each subject's predicted class finds its evidence, for one training run: integrated
gradients and Grad-CAM, each checked by re-initialising the network's layers from the top down with
its untrained weights, beside two independent initialisations (lib.attribution)."""

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

    from lib.activations import network
    from lib.attribution import explain, last_convolution
    from lib.checkpoints import BASELINE_SEED, initial_network, reinitialised
    from lib.training import deterministic

    deterministic(args.seed)
    model, _ = network(args.model, params["models"][args.name], input_channels(grayscale), f"models.{args.name}")
    untrained, how = initial_network(model, existing(args.checkpoints, "checkpoints"), args.seed)
    other = reinitialised(model, args.seed + BASELINE_SEED)
    settings = params["attribution"]
    context = {"layer": last_convolution(model), "steps": settings["steps"], "tolerance": settings["tolerance"],
               "max_steps": settings["max_steps"]}
    probabilities = np.asarray(model.predict(subjects.inputs, batch_size=1, verbose=0), np.float64)
    maps, card = {}, {"model": args.name, "seed": args.seed, "grad_cam_layer": context["layer"], "untrained": how,
                      "baseline_seed": args.seed + BASELINE_SEED, "subjects": {}}
    for name, image, label, scores in zip(subjects.names, subjects.inputs, subjects.labels, probabilities):
        target = int(scores.argmax())
        trained, randomised, facts = explain(model, untrained, other, image, target, context)
        maps.update({f"{name}/{method}": value for method, value in trained.items()})
        maps.update({f"{name}/{method}/initial": value for method, value in randomised.items()})
        card["subjects"][name] = {"label": label_name(label), "predicted": label_name(target),
                                  "probability": round(float(scores[target]), 6), "methods": facts}
    with atomic_dir(args.out) as folder:
        save_arrays(Path(folder) / ATTRIBUTION_MAPS, **maps)
        (Path(folder) / ATTRIBUTION_CARD).write_text(json.dumps(card, indent=2) + "\n")
    verdicts = [f"{name} {method} " + ("passes" if facts["passes"] else "FLAGGED" if facts["passes"] is False else
                                       "undefined") for name, entry in card["subjects"].items()
                for method, facts in entry["methods"].items()]
    print(f"attribute: {args.name} seed {args.seed}: {len(subjects.names)} subjects, methods {', '.join(trained)}; "
          f"sanity check against the {how} network: {', '.join(verdicts)} -> {args.out}")

if __name__ == "__main__":
    run(main)
