"""What each channel of one training run responds to: its top images of the official test split
with the patch each one's peak sees (lib.channels), and an input optimised to excite it
(lib.features), for every layer with channels; the output layer's classes get optimised inputs too."""

from pathlib import Path

from lib.cifar import model_inputs, official_test_split
from lib.files import EXAMPLES, EXAMPLES_CARD, FEATURES
from lib.params import ParamError, check_run, load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, existing, save_arrays, save_json


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
    images, labels, indices = official_test_split(args.val, args.test)
    if params["channels"]["tally"] > len(images):
        raise ParamError("channels.tally", params["channels"]["tally"],
                         f"must be at most {len(images)}, the images of the official test split")

    from lib.network import run_network
    from lib.checkpoints import initial_network
    from lib.examples import channel_run, summary_line

    model, roles = run_network(args.model, params, args.name, args.seed)
    initial, untrained = initial_network(model, existing(args.checkpoints, "checkpoints"), args.seed)
    found = channel_run(model, initial, untrained, (model_inputs(images, params["data"]["grayscale"]), labels, indices),
                        params, {"model": args.name, "seed": args.seed, "roles": roles})
    with atomic_dir(args.out) as folder:
        save_arrays(Path(folder) / EXAMPLES, **found.examples)
        save_arrays(Path(folder) / FEATURES, **found.features)
        save_json(Path(folder) / EXAMPLES_CARD, found.card)
    print(summary_line(found, args.out))


if __name__ == "__main__":
    run(main)
