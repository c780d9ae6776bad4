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
    parser.add_argument("--checkpoints", required=True,
                        help="input .npz: the run's weights by epoch (epoch 0: the untrained network, the baseline)")
    parser.add_argument("--activations", required=True, help="input folder: the run's stored activations (extract)")
    parser.add_argument("--probe", required=True, help="input .npz: the probe set (its images and labels)")
    parser.add_argument("--out", required=True,
                        help="output folder: outcomes.npz (per layer, per image), ablation.json (layers, counts)")
    args = parser.parse_args()
    params = load(args.params)
    check_run(params, args.name, args.seed)
    settings = params["ablation"]
    probe = Images.of(load_arrays(existing(args.probe, "probe set"))).seen(params["data"]["grayscale"])
    labels = np.asarray(probe.labels, int)
    stored = Path(args.activations) / images_file("probe")

    from lib.activations import layer_outputs, network, rest_of
    from lib.checkpoints import initial_network
    from lib.model import channel_layers
    from lib.reliance import ablate_layer, ablation_orders, channel_activity, order_stream, random_directions
    from lib.training import deterministic

    deterministic(args.seed)
    model, roles = network(args.model, params["models"][args.name], input_channels(params["data"]["grayscale"]),
                           f"models.{args.name}")
    acts = load_arrays(existing(stored, "activations"))
    initial, untrained = initial_network(model, existing(args.checkpoints, "checkpoints"), args.seed)
    ablated = channel_layers(model, roles)
    before = layer_outputs(initial, probe.inputs)
    arrays, layers = {}, {}
    for layer in ablated:
        channels = acts[layer].shape[-1]
        orders = ablation_orders(channels, settings["orders"], order_stream(settings["seed"], args.seed, layer))
        directions = random_directions(channels, channels, order_stream(settings["seed"], args.seed, f"{layer} directions"))
        found = ablate_layer(rest_of(model, layer), acts[layer], labels, orders, directions)
        found["activity_initial"] = channel_activity(before[layer])
        arrays.update({f"{layer}/{key}": value for key, value in found.items()})
        layers[layer] = {"channels": channels, "counts": found["counts"].tolist(),
                         "intact_accuracy": float(found["correct"][0].mean())}
        print(f"ablate: {args.name} seed {args.seed}: {layer}: {channels} channels; probe accuracy "
              f"{found['correct'][0].mean():.3f} intact, {found['correct'][-1].mean():.3f} with every channel zeroed",
              flush=True)
    with atomic_dir(args.out) as folder:
        save_arrays(Path(folder) / ABLATION_OUTCOMES, **arrays)
        (Path(folder) / ABLATION_CARD).write_text(json.dumps(
            {"model": args.name, "seed": args.seed, "roles": roles, "untrained": untrained, "layers": layers}, indent=2) + "\n")


if __name__ == "__main__":
    run(main)
