"""Every layer's activations of one trained (or imported) model for the subjects and the probe set."""

from pathlib import Path

from lib.cifar import model_inputs
from lib.files import LAYER_CARD, images_file
from lib.params import check_run, load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, load_arrays, save_arrays, save_json


def main():
    parser = stage_parser(__doc__, training_run=True)
    parser.add_argument("--model", required=True, help="input .keras: the trained model")
    parser.add_argument("--subjects", required=True, help="input .npz: the subjects")
    parser.add_argument("--probe", required=True, help="input .npz: the probe set")
    parser.add_argument("--out", required=True,
                        help="output folder: subjects.npz and probe.npz (a key per layer), layers.json (order, roles)")
    args = parser.parse_args()
    params = load(args.params)
    check_run(params, args.name, args.seed)
    grayscale = params["data"]["grayscale"]

    from lib.activations import BATCH, layer_outputs, layers_card
    from lib.network import run_network

    model, roles = run_network(args.model, params, args.name, args.seed)
    with atomic_dir(args.out) as folder:
        for name, path, batch in (("subjects", args.subjects, 1), ("probe", args.probe, BATCH)):
            x = model_inputs(load_arrays(path)["images"], grayscale)
            save_arrays(Path(folder) / images_file(name), **layer_outputs(model, x, batch))
        save_json(Path(folder) / LAYER_CARD, layers_card(model, roles))
    print(f"extract: {args.name} seed {args.seed}: activations of every layer for the subjects and "
          f"{len(x)} probe images -> {args.out}")


if __name__ == "__main__":
    run(main)
