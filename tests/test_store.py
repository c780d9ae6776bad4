import time

import numpy as np
import pytest

from lib.store import atomic_dir, atomic_path, load_arrays, save_arrays, save_json


def test_arrays_round_trip_and_bytes_do_not_depend_on_time(tmp_path):
    arrays = {"images": np.arange(24, dtype=np.uint8).reshape(2, 3, 4), "labels": np.array([1, 2])}
    save_arrays(tmp_path / "a.npz", **arrays)
    time.sleep(2.1)  # zip timestamps have two-second resolution
    save_arrays(tmp_path / "b.npz", **arrays)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = load_arrays(tmp_path / "a.npz")
    assert loaded.keys() == arrays.keys()
    assert all(np.array_equal(loaded[k], arrays[k]) and loaded[k].dtype == arrays[k].dtype for k in arrays)


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(ValueError):
        save_arrays(tmp_path / "a.npz", objects=np.array([{"a": 1}], dtype=object))
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_neither_file_nor_temporary(tmp_path):
    (tmp_path / "out.json").write_text("previous")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "out.json") as tmp:
        tmp.write_text("half")
        raise RuntimeError
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    assert (tmp_path / "out.json").read_text() == "previous"


def test_a_failed_folder_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "subsets") as folder:
        (folder / "dummy.npz").write_text("x")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_folder_replaces_the_old_one_whole(tmp_path):
    (tmp_path / "subsets").mkdir()
    (tmp_path / "subsets" / "removed.npz").write_text("old")
    with atomic_dir(tmp_path / "subsets") as folder:
        (folder / "kept.npz").write_text("new")
    assert [p.name for p in (tmp_path / "subsets").iterdir()] == ["kept.npz"]


def test_json_is_written_with_a_trailing_newline(tmp_path):
    save_json(tmp_path / "m.json", {"b": 1, "a": [1, 2]})
    assert (tmp_path / "m.json").read_text().endswith("}\n")
