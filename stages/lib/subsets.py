"""Carving CIFAR-10: nested class-balanced training subsets, val/test and the probe set.

Every subset is a prefix of one seeded, class-interleaved ordering of the pool (the training split
without the subjects' training images), so subsets are nested and adding or removing one leaves
the others unchanged.
Each kind of draw has its own random stream of `split.seed`, so changing the probe size, say,
moves nothing else.
"""

from pathlib import Path
from typing import NamedTuple

import numpy as np

from lib.cifar import CHANNELS, CLASSES, SIDE, input_channels, label_name
from lib.model import imported, load_imported, trained
from lib.params import ParamError, project_file
from lib.stats import named_stream
from lib.store import md5_of, save_arrays
from lib.subjects import held_out

POOL_STREAM, SPLIT_STREAM, PROBE_STREAM = 0, 1, 2


class Carving(NamedTuple):
    """Indices into the official splits: `held_out`, `subsets` and `pool` into train, the rest into test.
    Imported models have no subset."""

    held_out: list
    pool: np.ndarray
    subsets: dict
    val: np.ndarray
    test: np.ndarray
    probe: np.ndarray


def interleaved(labels, rng):
    """An ordering of range(len(labels)) whose every prefix is class-balanced.

    Within each class the order is a seeded shuffle; the k-th image of every class comes before
    the (k+1)-th of any, classes in a seeded order within each round.
    """
    rank = np.empty(len(labels))
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        rank[rng.permutation(members)] = np.arange(len(members))
    return np.argsort(rank + rng.random(len(labels)), kind="stable")


def per_class(labels):
    """Image count per class name."""
    counts = np.bincount(labels, minlength=len(CLASSES))
    return {name: int(count) for name, count in zip(CLASSES, counts)}


def check_sizes(params, pool_size, test_split_size):
    """Refuse any size the data cannot supply, naming the param."""
    for name, model in trained(params["models"]).items():
        if model["train_size"] > pool_size:
            raise ParamError(f"models.{name}.train_size", model["train_size"],
                             f"must be at most {pool_size}, the pool (training images without the subjects')")
    val_size = params["split"]["val_size"]
    if val_size >= test_split_size:
        raise ParamError("split.val_size", val_size,
                         f"must be below {test_split_size}, the official test split's size, to leave a test set")
    probe_size = params["analysis"]["probe_size"]
    if probe_size > test_split_size - val_size:
        raise ParamError("analysis.probe_size", probe_size,
                         f"must be at most {test_split_size - val_size}, the test images left after split.val_size")


def carve(train_labels, test_labels, params):
    """Draw every index set the pipeline needs from the labels of the official splits."""
    seed = params["split"]["seed"]
    kept_out = held_out(params["subjects"])
    pool = np.delete(np.arange(len(train_labels)), kept_out)
    check_sizes(params, len(pool), len(test_labels))
    order = pool[interleaved(train_labels[pool], named_stream(seed, POOL_STREAM))]
    subsets = {name: order[:model["train_size"]] for name, model in trained(params["models"]).items()}
    split = interleaved(test_labels, named_stream(seed, SPLIT_STREAM))
    val_size = params["split"]["val_size"]
    val, test = np.sort(split[:val_size]), np.sort(split[val_size:])
    probe = test[interleaved(test_labels[test], named_stream(seed, PROBE_STREAM))][:params["analysis"]["probe_size"]]
    return Carving(kept_out, pool, subsets, val, test, probe)


def summary(carving, train_labels, test_labels, subjects):
    """The facts of a carving, and the subjects' labels, for metrics/data.json."""
    return {
        "pool_size": len(carving.pool),
        "held_out": [int(i) for i in carving.held_out],
        "subjects": {name: label_name(label) for name, label in zip(subjects.names, subjects.labels)},
        "subsets": {name: {"size": len(indices), "per_class": per_class(train_labels[indices])}
                    for name, indices in carving.subsets.items()},
        "val_size": len(carving.val),
        "test_size": len(carving.test),
        "probe_size": len(carving.probe),
        "probe_per_class": per_class(test_labels[carving.probe]),
    }


def imported_files(models, grayscale):
    """{model: its .keras file} of every imported model, each loaded as the train stage will, before
    anything is written or trained."""
    files = {name: project_file(f"models.{name}.keras", model["keras"]) for name, model in models.items()
             if imported(model)}
    for path in files.values():
        load_imported(path, input_channels(grayscale))
    return files


def save_split(path, split, indices):
    """Images, labels and their indices into the official split."""
    part = split.take(indices)
    save_arrays(path, images=part.images, labels=part.labels, indices=indices)


def save_subsets(folder, carving, train, imported):
    """<model>.npz per model in `folder`: its training images, or for an imported model none and the
    md5 of its .keras file (the train stage depends on it)."""
    for name, indices in carving.subsets.items():
        save_split(Path(folder) / f"{name}.npz", train, indices)
    for name, keras_file in imported.items():
        save_arrays(Path(folder) / f"{name}.npz", images=np.zeros((0, SIDE, SIDE, CHANNELS), np.uint8),
                    labels=np.zeros(0, np.uint8), indices=np.zeros(0, np.int64), keras_md5=np.array(md5_of(keras_file)))


def summary_line(facts, imported):
    """What the carve stage says of its carving."""
    sizes = ", ".join(f"{name} {s['size']}" for name, s in facts["subsets"].items())
    return (f"carve: pool {facts['pool_size']}; subsets {sizes}; val {facts['val_size']}, test {facts['test_size']}, "
            f"probe {facts['probe_size']}; subjects {', '.join(facts['subjects'])}; "
            f"held out of training: {facts['held_out'] or 'none'}" + (f"; imported {', '.join(imported)}" if imported else ""))
