"""Ablate one training run's channels: per layer with channels, the probe set's outcomes with an
increasing share of them zeroed (in seeded random orders), with each alone zeroed and with random
directions projected out (the baseline of a channel's importance), computed from the layer's stored
activations through the rest of the network; and the untrained network's channel activity (the
baseline of selectivity) (lib.reliance)."""

import json
from pathlib import Path

import numpy as np

from lib.cifar import Images, input_channels
from lib.files import ABLATION_CARD, ABLATION_OUTCOMES, images_file
from lib.params import check_run, load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, existing, load_arrays, save_arrays


def main():
    parser = stage_parser(__doc__, training_run=True)
    parser.add_argument("--model", required=True, help="input .keras: the trained (or imported) model")
    parser.add_argument("--checkpoints", required=True, help="input .npz: the run's weights by epoch (0: untrained)")
    parser.add_argument("--activations", required=True, help="input folder: the run's stored activations (extract)")
    parser.add_argument("--probe", required=True, help="input .npz: the probe set (its images and labels)")
    parser.add_argument("--out", required=True,
                        help="output folder: outcomes.npz (per layer, per image), ablation.json (layers, counts)")
    args = parser.parse_args()
    params = load(args.params)
    check_run(params, args.name, args.seed)
    probe = Images.of(load_arrays(existing(args.probe, "probe set"))).seen(params["data"]["grayscale"])
    labels = np.asarray(probe.labels, int)
    stored = Path(args.activations) / images_file("probe")

    from lib.activations import network
    from lib.checkpoints import initial_network
    from lib.model import channel_layers
    from lib.ablation import ablated_layers
    from lib.training import deterministic

    deterministic(args.seed)
    model, roles = network(args.model, params["models"][args.name], input_channels(params["data"]["grayscale"]),
                           f"models.{args.name}")
    acts = load_arrays(existing(stored, "activations"))
    initial, untrained = initial_network(model, existing(args.checkpoints, "checkpoints"), args.seed)
    arrays, layers = {}, {}
    for layer, found in ablated_layers(model, initial, channel_layers(model, roles), acts, probe.inputs, labels,
                                       params["ablation"], args.seed):
        arrays.update({f"{layer}/{key}": value for key, value in found.items()})
        layers[layer] = {"channels": int(found["counts"][-1]), "counts": found["counts"].tolist(),
                         "intact_accuracy": float(found["correct"][0].mean())}
        print(f"ablate: {args.name} seed {args.seed}: {layer}: {layers[layer]['channels']} channels; probe accuracy "
              f"{found['correct'][0].mean():.3f} intact, {found['correct'][-1].mean():.3f} all zeroed", flush=True)
    with atomic_dir(args.out) as folder:
        save_arrays(Path(folder) / ABLATION_OUTCOMES, **arrays)
        (Path(folder) / ABLATION_CARD).write_text(json.dumps(
            {"model": args.name, "seed": args.seed, "roles": roles, "untrained": untrained, "layers": layers}, indent=2) + "\n")


if __name__ == "__main__":
    run(main)
