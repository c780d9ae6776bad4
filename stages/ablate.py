"""Ablate one training run's channels: per layer with channels, the probe set's outcomes with an
increasing share of them zeroed (in seeded random orders), with each alone zeroed and with random
directions projected out (the baseline of a channel's importance), computed from the layer's stored
activations through the rest of the network (or, around a skip connection, the whole network with
the layer changed inside it; a layer that cannot be changed is skipped and named in the card);
and the untrained network's channel activity (the baseline of selectivity) (lib.ablation)."""

from pathlib import Path

import numpy as np

from lib.cifar import Images
from lib.files import ABLATION_CARD, ABLATION_OUTCOMES, images_file
from lib.params import check_run, load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, existing, load_arrays, save_arrays, save_json


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

    from lib.network import run_network
    from lib.checkpoints import initial_network
    from lib.ablation import ablate_run

    model, roles = run_network(args.model, params, args.name, args.seed)
    acts = load_arrays(existing(stored, "activations"))
    initial, untrained = initial_network(model, existing(args.checkpoints, "checkpoints"), args.seed)
    arrays, card = ablate_run(model, initial, roles, acts, probe.inputs, labels, params["ablation"], args.seed,
                              lambda line: print(f"ablate: {args.name} seed {args.seed}: {line}", flush=True))
    with atomic_dir(args.out) as folder:
        save_arrays(Path(folder) / ABLATION_OUTCOMES, **arrays)
        save_json(Path(folder) / ABLATION_CARD, {"model": args.name, "seed": args.seed, "untrained": untrained, **card})


if __name__ == "__main__":
    run(main)
