"""Stage outputs on disk: byte-deterministic, written aside and renamed into place."""

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from lib.stage import StageError

_EPOCH = (1980, 1, 1, 0, 0, 0)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path):
    """Yield a temporary sibling of `path`; rename it to `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_dir(path):
    """Yield a temporary sibling folder of `path`; it replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def save_arrays(path, **arrays):
    """Write arrays as an .npz whose bytes depend only on the arrays (no timestamps)."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH), buffer.getvalue())


def load_arrays(path):
    """Read an .npz written by save_arrays into a dict; refuses pickled objects."""
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def save_model(model, path):
    """Save a Keras model as a .keras file whose bytes depend only on the model (no save date)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        raw = Path(scratch) / "model.keras"
        model.save(raw)
        with zipfile.ZipFile(raw) as source, atomic_path(path) as tmp, \
                zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as target:
            for entry in source.infolist():
                data = source.read(entry)
                if entry.filename == "metadata.json":
                    metadata = json.loads(data)
                    metadata.pop("date_saved", None)
                    data = json.dumps(metadata).encode()
                elif entry.filename == "config.json":
                    data = json.dumps(_renumber_shared_objects(json.loads(data), {})).encode()
                target.writestr(zipfile.ZipInfo(entry.filename, date_time=_EPOCH), data,
                                compress_type=entry.compress_type)


def _renumber_shared_objects(node, numbers):
    """Replace Keras' shared_object_id (a memory address) by its order of first appearance."""
    if isinstance(node, dict):
        return {key: numbers.setdefault(value, len(numbers) + 1) if key == "shared_object_id"
                else _renumber_shared_objects(value, numbers) for key, value in node.items()}
    if isinstance(node, list):
        return [_renumber_shared_objects(value, numbers) for value in node]
    return node


def save_csv(path, rows, fields=None):
    """Write a list of same-keyed dicts as CSV with a header (`fields`, or the first row's keys), atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(fields or rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def existing(path, what):
    """`path`, or a one-line error saying what is missing there and how to make it."""
    path = Path(path)
    if not path.is_file():
        raise StageError(f"no {what} at {path}; run `dvc repro` to make it")
    return path


def md5_of(path):
    """The md5 of a file's bytes, as DVC and the archive's publisher state it."""
    digest = hashlib.md5()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_json(path):
    return json.loads(Path(path).read_text())


def read_csv(path):
    """A CSV file with a header as a list of dicts (values as strings)."""
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def load_runs(folder, params, read, what, suffix):
    """{model: {seed: read(<folder>/<model>/<seed><suffix>)}} for every training run params lists."""
    return {model: {seed: read(existing(Path(folder) / model / f"{seed}{suffix}", f"{what} for model {model!r}"))
                    for seed in params["train"]["seeds"]}
            for model in params["models"]}


def save_json(path, data):
    """Write `data` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")
