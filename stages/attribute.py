"""Where each subject's predicted class finds its evidence, for one training run: integrated
gradients and Grad-CAM, each checked by re-initialising the network's layers from the top down with
its untrained weights, beside two independent initialisations (lib.attribution)."""

from pathlib import Path

from lib.cifar import Images
from lib.files import ATTRIBUTION_CARD, ATTRIBUTION_MAPS
from lib.params import check_run, load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, existing, load_arrays, save_arrays, save_json


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

    from lib.network import run_network
    from lib.attribution import attribute_run, summary_line
    from lib.checkpoints import BASELINE_SEED, initial_network, reinitialised

    model, _ = run_network(args.model, params, args.name, args.seed)
    untrained, how = initial_network(model, existing(args.checkpoints, "checkpoints"), args.seed)
    other = reinitialised(model, args.seed + BASELINE_SEED)
    maps, card = attribute_run(model, untrained, other, subjects, params["attribution"], {
        "model": args.name, "seed": args.seed, "untrained": how, "baseline_seed": args.seed + BASELINE_SEED})
    with atomic_dir(args.out) as folder:
        save_arrays(Path(folder) / ATTRIBUTION_MAPS, **maps)
        save_json(Path(folder) / ATTRIBUTION_CARD, card)
    print(summary_line(card, args.out))


if __name__ == "__main__":
    run(main)
