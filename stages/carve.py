"""Carve the archive into the subjects, one training subset per model, val/test and the probe set."""

import numpy as np

from lib.cifar import read_archive
from lib.params import load, stage_parser
from lib.stage import run
from lib.store import atomic_dir, save_arrays, save_json
from lib.subjects import gather
from lib.subsets import carve, imported_files, save_split, save_subsets, summary, summary_line


def main():
    parser = stage_parser(__doc__)
    parser.add_argument("--archive", required=True, help="the CIFAR-10 binary .tar.gz")
    parser.add_argument("--subjects", required=True, help="output .npz: the subjects' images, labels and names")
    parser.add_argument("--subsets", required=True, help="output folder: <model>.npz per model")
    parser.add_argument("--val", required=True, help="output .npz: early-stopping images")
    parser.add_argument("--test", required=True, help="output .npz: images accuracy is reported on")
    parser.add_argument("--probe", required=True, help="output .npz: class-balanced probe images")
    parser.add_argument("--metrics", required=True, help="output .json: sizes and class counts")
    args = parser.parse_args()
    params = load(args.params)
    imported = imported_files(params["models"], params["data"]["grayscale"])
    cifar = read_archive(args.archive)
    train, test = cifar
    subjects = gather(params["subjects"], cifar)
    carving = carve(train.labels, test.labels, params)

    save_arrays(args.subjects, images=subjects.images, labels=subjects.labels, names=np.array(subjects.names))
    with atomic_dir(args.subsets) as folder:
        save_subsets(folder, carving, train, imported)
    save_split(args.val, test, carving.val)
    save_split(args.test, test, carving.test)
    save_split(args.probe, test, carving.probe)
    facts = summary(carving, train.labels, test.labels, subjects)
    save_json(args.metrics, facts)
    print(summary_line(facts, imported))


if __name__ == "__main__":
    run(main)
