"""The CIFAR-10 binary archive: read in place, every member checked, nothing extracted or executed.

Each batch is plain bytes: records of 1 label byte and 3072 pixel bytes (1024 red, 1024 green,
1024 blue, each 32x32 row-major).
"""

import tarfile
import zlib
from pathlib import PurePosixPath
from typing import NamedTuple

import numpy as np

from lib.stage import StageError
from lib.store import existing, load_arrays

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SPLITS = ("train", "test")
SIDE = 32
CHANNELS = 3
RECORD = 1 + CHANNELS * SIDE * SIDE
MAX_BATCH_RECORDS = 10_000
FOLDER = "cifar-10-batches-bin"
PICKLE_FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_BATCH = "test_batch.bin"
META = "batches.meta.txt"
MAX_META_BYTES = 4096
IGNORED = ("readme.html",)
BINARY_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
NO_LABEL = -1  # the label of an image of no known class (a picture of your own named without one)


class ArchiveError(StageError):
    """The archive is not a well-formed CIFAR-10 binary archive."""


class Images(NamedTuple):
    """A set of labelled images: `images`, the pixels (N, 32, 32, 3) uint8, height-width-channel, RGB;
    `labels` (N,), NO_LABEL where an image has none; `names` where the images have them (subjects);
    and `inputs`, the model's view of them (N, 32, 32, C) float32 in [0, 1], once `seen` made it."""

    images: np.ndarray
    labels: np.ndarray
    names: list = None
    inputs: np.ndarray = None

    def take(self, indices):
        return Images(self.images[indices], self.labels[indices])

    def seen(self, grayscale):
        """The same images with their model inputs."""
        return self._replace(inputs=model_inputs(self.images, grayscale))

    @classmethod
    def of(cls, arrays):
        """The images of an .npz the carve stage wrote (images, labels and, for the subjects, names)."""
        names = arrays["names"].tolist() if "names" in arrays else None
        return cls(arrays["images"], arrays["labels"].astype(int), names)


class Cifar(NamedTuple):
    train: Images
    test: Images


def label_name(label):
    """A label's class name; None for NO_LABEL."""
    return None if label == NO_LABEL else CLASSES[label]


def input_channels(grayscale):
    """Channels of the model input: 1 where data.grayscale averages them."""
    return 1 if grayscale else CHANNELS


def model_inputs(images, grayscale):
    """uint8 (N, 32, 32, 3) images -> float32 in [0, 1]; grayscale averages the channels."""
    x = images.astype(np.float32) / 255
    return x.mean(axis=-1, keepdims=True) if grayscale else x


def member_name(member):
    """The member's file name inside FOLDER, after refusing anything unsafe or unexpected."""
    name = member.name
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise ArchiveError(f"unsafe member path {name!r} in the archive")
    if not (member.isfile() or member.isdir()):
        raise ArchiveError(f"member {name!r} is a link or special file; a CIFAR archive has only files")
    if path.parts and path.parts[0] == PICKLE_FOLDER:
        raise ArchiveError("this is the python-pickle CIFAR-10 archive (cifar-10-python.tar.gz); "
                           f"this pipeline reads only the binary archive: set data.url to {BINARY_URL}")
    if path.parts[:1] != (FOLDER,) or len(path.parts) > 2:
        raise ArchiveError(f"unexpected member {name!r}: a CIFAR-10 binary archive holds only {FOLDER}/")
    if len(path.parts) == 1:
        if not member.isdir():
            raise ArchiveError(f"member {name!r} should be a folder")
        return None
    if member.isdir() or path.name not in (*TRAIN_BATCHES, TEST_BATCH, META, *IGNORED):
        raise ArchiveError(f"unexpected member {name!r} in the archive")
    return path.name


def batch(name, data):
    """Split one batch's bytes into images and labels, checking its length and labels."""
    if len(data) == 0 or len(data) % RECORD:
        raise ArchiveError(f"{name} is {len(data)} bytes, not a whole number of {RECORD}-byte records")
    records = np.frombuffer(data, np.uint8).reshape(-1, RECORD)
    labels = records[:, 0].copy()
    bad = np.flatnonzero(labels >= len(CLASSES))
    if bad.size:
        raise ArchiveError(f"{name}: record {bad[0]} has label {labels[bad[0]]}, outside 0-{len(CLASSES) - 1}")
    images = records[:, 1:].reshape(-1, CHANNELS, SIDE, SIDE).transpose(0, 2, 3, 1)
    return Images(np.ascontiguousarray(images), labels)


def check_meta(data):
    names = [line.strip() for line in data.decode("ascii", "replace").splitlines() if line.strip()]
    if tuple(names) != CLASSES:
        raise ArchiveError(f"{META} lists classes {names}, expected {list(CLASSES)}")


def read_members(archive):
    """The archive's batches by name, each read with a size bound."""
    batches = {}
    for member in archive:
        name = member_name(member)
        if name is None or name in IGNORED:
            continue
        if name in batches:
            raise ArchiveError(f"member {member.name!r} appears twice in the archive")
        limit = MAX_META_BYTES if name == META else MAX_BATCH_RECORDS * RECORD
        if member.size > limit:
            raise ArchiveError(f"member {member.name!r} is {member.size} bytes, more than the {limit} "
                               "a CIFAR-10 batch may have")
        data = archive.extractfile(member).read(limit + 1)
        if len(data) != member.size:
            raise ArchiveError(f"member {member.name!r} is truncated: {len(data)} of {member.size} bytes")
        batches[name] = data
    return batches


def read_archive(path):
    """Read and validate a CIFAR-10 binary .tar.gz; return its train and test splits."""
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            batches = read_members(archive)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise ArchiveError(f"{path} is not a readable .tar.gz archive ({type(error).__name__}: {error})") from error
    missing = [name for name in (*TRAIN_BATCHES, TEST_BATCH) if name not in batches]
    if missing:
        raise ArchiveError(f"the archive lacks {', '.join(f'{FOLDER}/{name}' for name in missing)}")
    if META in batches:
        check_meta(batches[META])
    train = [batch(name, batches[name]) for name in TRAIN_BATCHES]
    return Cifar(train=Images(np.concatenate([s.images for s in train]), np.concatenate([s.labels for s in train])),
                 test=batch(TEST_BATCH, batches[TEST_BATCH]))


def official_test_split(val, test):
    """(images, labels, indices) of the official test split: the carved validation and test sets
    (.npz files) together, in official order."""
    parts = [load_arrays(existing(path, what)) for path, what in ((val, "validation set"), (test, "test set"))]
    indices = np.concatenate([part["indices"] for part in parts])
    order = np.argsort(indices, kind="stable")
    return (np.concatenate([part["images"] for part in parts])[order],
            np.concatenate([part["labels"] for part in parts])[order].astype(int), indices[order])
