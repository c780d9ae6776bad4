"""Every layer's activations of one trained model for the frog and the probe set."""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lib.params import PARAMS_FILE, check_run, load  # noqa: E402
from lib.stage import run  # noqa: E402
from lib.store import atomic_dir, load_arrays, save_arrays  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default=PARAMS_FILE)
    parser.add_argument("--name", required=True, help="the model's entry in params models")
    parser.add_argument("--seed", required=True, type=int, help="one of params train.seeds")
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
