"""Carve the archive into the subjects, one training subset per model, val/test and the probe set."""

from pathlib import Path

import numpy as np

from lib.cifar import CHANNELS, SIDE, input_channels, read_archive
from lib.model import imported
from lib.params import load, project_file, stage_parser
from lib.stage import run
from lib.store import atomic_dir, md5_of, save_arrays, save_json
from lib.subjects import gather
from lib.subsets import carve, summary


def save_split(path, split, indices):
    """Images, labels and their indices into the official split."""
    part = split.take(indices)
    save_arrays(path, images=part.images, labels=part.labels, indices=indices)


def save_import(path, keras_file):
    """An imported model's subset: no images, and the md5 of its .keras file (train depends on it)."""
    save_arrays(path, images=np.zeros((0, SIDE, SIDE, CHANNELS), np.uint8), labels=np.zeros(0, np.uint8),
                indices=np.zeros(0, np.int64), keras_md5=np.array(md5_of(keras_file)))


def check_imports(models, grayscale):
    """Load every imported model as the train stage will, before anything is written or trained."""
    files = {name: project_file(f"models.{name}.keras", model["keras"]) for name, model in models.items()
             if imported(model)}
    if files:
        from lib.model import load_imported

        for path in files.values():
            load_imported(path, input_channels(grayscale))
    return files


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
    imported = check_imports(params["models"], params["data"]["grayscale"])
    cifar = read_archive(args.archive)
    train, test = cifar
    subjects = gather(params["subjects"], cifar)
    carving = carve(train.labels, test.labels, params)

    save_arrays(args.subjects, images=subjects.images, labels=subjects.labels, names=np.array(subjects.names))
    with atomic_dir(args.subsets) as folder:
        for name, indices in carving.subsets.items():
            save_split(Path(folder) / f"{name}.npz", train, indices)
        for name, keras_file in imported.items():
            save_import(Path(folder) / f"{name}.npz", keras_file)
    save_split(args.val, test, carving.val)
    save_split(args.test, test, carving.test)
    save_split(args.probe, test, carving.probe)
    facts = summary(carving, train.labels, test.labels, subjects)
    save_json(args.metrics, facts)
    sizes = ", ".join(f"{name} {s['size']}" for name, s in facts["subsets"].items())
    print(f"carve: pool {facts['pool_size']}; subsets {sizes}; val {facts['val_size']}, "
          f"test {facts['test_size']}, probe {facts['probe_size']}; subjects {', '.join(subjects.names)}; "
          f"held out of training: {facts['held_out'] or 'none'}"
          + (f"; imported {', '.join(imported)}" if imported else ""))


if __name__ == "__main__":
    run(main)
