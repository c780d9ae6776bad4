"""Small CIFAR-format archives for tests: deterministic images, training image 0 a frog."""

import gzip
import hashlib
import io
import tarfile

import numpy as np

from lib.cifar import CHANNELS, CLASSES, FOLDER, META, SIDE, TEST_BATCH, TRAIN_BATCHES

FROG = CLASSES.index("frog")

PER_BATCH = 60
TEST_SIZE = 100


def labels(count, rng, first=None):
    """Class-balanced labels in a seeded order; `first` fixes label 0."""
    values = rng.permutation(np.arange(count) % len(CLASSES))
    if first is not None:
        swap = int(np.flatnonzero(values == first)[0])
        values[[0, swap]] = values[[swap, 0]]
    return values.astype(np.uint8)


def records(label_values, rng):
    """CIFAR binary records: a label byte, then 3072 deterministic pixel bytes."""
    pixels = rng.integers(0, 256, size=(len(label_values), CHANNELS * SIDE * SIDE), dtype=np.uint8)
    return np.concatenate([np.asarray(label_values, np.uint8)[:, None], pixels], axis=1).tobytes()


def members(per_batch=PER_BATCH, test_size=TEST_SIZE, seed=0):
    """File name -> bytes of a well-formed archive; training image 0 is a frog."""
    rng = np.random.default_rng(seed)
    train = labels(per_batch * len(TRAIN_BATCHES), rng, first=FROG)
    files = {f"{FOLDER}/{name}": records(train[i * per_batch:(i + 1) * per_batch], rng)
             for i, name in enumerate(TRAIN_BATCHES)}
    files[f"{FOLDER}/{TEST_BATCH}"] = records(labels(test_size, rng), rng)
    files[f"{FOLDER}/{META}"] = ("\n".join(CLASSES) + "\n\n").encode()
    return files


def tar_gz(files, links=()):
    """A .tar.gz (bytes) of name -> bytes, plus (name, target) symlinks; same input, same bytes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return gzip.compress(buffer.getvalue(), mtime=0)


def archive(**kwargs):
    return tar_gz(members(**kwargs))


def md5(data):
    return hashlib.md5(data).hexdigest()
