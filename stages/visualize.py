"""What each channel of one training run responds to: its top images of the official test split
with the patch each one's peak sees (lib.channels), and an input optimised to excite it
(lib.features), for every layer with channels; the output layer's classes get optimised inputs too."""

import json
import time
from pathlib import Path

from lib.cifar import input_channels, model_inputs, official_test_split
from lib.files import EXAMPLES, EXAMPLES_CARD, FEATURES
from lib.params import ParamError, check_run, load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, existing, save_arrays


def main():
    parser = stage_parser(__doc__, training_run=True)
    parser.add_argument("--model", required=True, help="input .keras: the trained (or imported) model")
    parser.add_argument("--checkpoints", required=True,
                        help="input .npz: the run's weights by epoch (epoch 0: the untrained network, the baseline)")
    parser.add_argument("--val", required=True, help="input .npz: the validation images (part of the official test split)")
    parser.add_argument("--test", required=True, help="input .npz: the test images (the rest of it)")
    parser.add_argument("--out", required=True,
                        help="output folder: examples.npz and features.npz (\"<layer>/<what>\"), channels.json")
    args = parser.parse_args()
    params = load(args.params)
    check_run(params, args.name, args.seed)
    grayscale, settings = params["data"]["grayscale"], params["channels"]
    images, labels, indices = official_test_split(args.val, args.test)
    if settings["tally"] > len(images):
        raise ParamError("channels.tally", settings["tally"],
                         f"must be at most {len(images)}, the images of the official test split")

    from lib.activations import network
    from lib.checkpoints import initial_network
    from lib.examples import run_examples
    from lib.features import feature_files, visualize
    from lib.model import channel_layers
    from lib.training import deterministic

    deterministic(args.seed)
    model, roles = network(args.model, params["models"][args.name], input_channels(grayscale), f"models.{args.name}")
    layers = channel_layers(model, roles)
    initial, untrained = initial_network(model, existing(args.checkpoints, "checkpoints"), args.seed)
    arrays, found = run_examples(model, initial, layers, model_inputs(images, grayscale), labels, indices, settings)
    card = {"model": args.name, "seed": args.seed, "split": "test", "images": len(images), "top": settings["top"],
            "tally": settings["tally"], "roles": roles, "untrained": untrained, "layers": found}
    cpu = time.process_time()
    drawn = visualize(model, [*layers, roles["output"]], params["features"])
    cpu = time.process_time() - cpu
    features = feature_files(drawn, card["layers"])
    with atomic_dir(args.out) as folder:
        save_arrays(Path(folder) / EXAMPLES, **arrays)
        save_arrays(Path(folder) / FEATURES, **features)
        (Path(folder) / EXAMPLES_CARD).write_text(json.dumps(card, indent=2) + "\n")
    dead = sum(len(entry["constant"]) for entry in card["layers"].values() if "constant" in entry)
    print(f"visualize: {args.name} seed {args.seed}: {len(layers)} layers, "
          f"{sum(entry['channels'] for name, entry in card['layers'].items() if name in layers)} channels "
          f"({dead} constant on the {len(images)} test images); optimised inputs for those and the "
          f"{len(drawn[roles['output']][0])} classes ({cpu:.1f} s of CPU) -> {args.out}")


if __name__ == "__main__":
    run(main)
