"""Every layer's activations of one trained model for the frog and the probe set."""

from pathlib import Path

from lib.params import check_run, load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, load_arrays, save_arrays


def main():
    parser = stage_parser(__doc__, training_run=True)
    parser.add_argument("--model", required=True, help="input .keras: the trained model")
    parser.add_argument("--frog", required=True, help="input .npz: the frog")
    parser.add_argument("--probe", required=True, help="input .npz: the probe set")
    parser.add_argument("--out", required=True, help="output folder: frog.npz and probe.npz, a key per layer")
    args = parser.parse_args()
    params = load(args.params)
    check_run(params, args.name, args.seed)

    import keras

    from lib.activations import float32_twin, layer_outputs
    from lib.training import deterministic, model_inputs

    deterministic(args.seed)
    model = float32_twin(keras.models.load_model(args.model, compile=False))
    with atomic_dir(args.out) as folder:
        for name, path in (("frog", args.frog), ("probe", args.probe)):
            x = model_inputs(load_arrays(path)["images"], params["data"]["grayscale"])
            save_arrays(Path(folder) / f"{name}.npz", input=x, **layer_outputs(model, x))
    print(f"extract: {args.name} seed {args.seed}: activations of every layer for the frog and "
          f"{len(x)} probe images -> {args.out}")


if __name__ == "__main__":
    run(main)
