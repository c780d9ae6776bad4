"""Carve the archive into the frog, one training subset per model, val/test and the probe set."""

from pathlib import Path

from lib.cifar import read_archive
from lib.params import load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, save_arrays, save_json
from lib.subsets import carve, summary


def save_split(path, split, indices):
    """Images, labels and their indices into the official split."""
    part = split.take(indices)
    save_arrays(path, images=part.images, labels=part.labels, indices=indices)


def main():
    parser = stage_parser(__doc__)
    parser.add_argument("--archive", required=True, help="the CIFAR-10 binary .tar.gz")
    parser.add_argument("--frog", required=True, help="output .npz: the held-out frog")
    parser.add_argument("--subsets", required=True, help="output folder: <model>.npz per model")
    parser.add_argument("--val", required=True, help="output .npz: early-stopping images")
    parser.add_argument("--test", required=True, help="output .npz: images accuracy is reported on")
    parser.add_argument("--probe", required=True, help="output .npz: class-balanced probe images")
    parser.add_argument("--metrics", required=True, help="output .json: sizes and class counts")
    args = parser.parse_args()
    params = load(args.params)
    train, test = read_archive(args.archive)
    carving = carve(train.labels, test.labels, params)

    save_split(args.frog, train, [carving.frog])
    with atomic_dir(args.subsets) as folder:
        for name, indices in carving.subsets.items():
            save_split(Path(folder) / f"{name}.npz", train, indices)
    save_split(args.val, test, carving.val)
    save_split(args.test, test, carving.test)
    save_split(args.probe, test, carving.probe)
    facts = summary(carving, train.labels, test.labels)
    save_json(args.metrics, facts)
    sizes = ", ".join(f"{name} {s['size']}" for name, s in facts["subsets"].items())
    print(f"carve: pool {facts['pool_size']}; subsets {sizes}; val {facts['val_size']}, "
          f"test {facts['test_size']}, probe {facts['probe_size']}; frog = training image {carving.frog}")


if __name__ == "__main__":
    run(main)
