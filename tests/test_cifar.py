import gzip

import numpy as np
import pytest

import synthetic
from lib import cifar
from lib.cifar import FOLDER, RECORD, ArchiveError, read_archive
from synthetic import FROG


def write(tmp_path, data):
    path = tmp_path / "archive.tar.gz"
    path.write_bytes(data)
    return path


def test_reads_every_record_in_canonical_order(archive_file):
    train, test = read_archive(archive_file)
    assert train.images.shape == (300, 32, 32, 3) and train.images.dtype == np.uint8
    assert test.images.shape == (100, 32, 32, 3)
    assert train.labels[0] == FROG
    assert np.bincount(train.labels).tolist() == [30] * 10
    batch_2 = synthetic.members()[f"{FOLDER}/data_batch_2.bin"]
    assert train.labels[60] == batch_2[0]


def test_pixels_are_red_green_blue_planes_row_major(tmp_path):
    record = np.zeros(RECORD, np.uint8)
    record[0] = 3
    planes = record[1:].reshape(3, 32, 32)
    planes[0, 0, 1] = 10  # red, row 0, column 1
    planes[1, 2, 0] = 20  # green, row 2, column 0
    planes[2, 31, 31] = 30  # blue, last pixel
    files = synthetic.members()
    files[f"{FOLDER}/test_batch.bin"] = record.tobytes()
    test = read_archive(write(tmp_path, synthetic.tar_gz(files))).test
    assert test.labels.tolist() == [3]
    image = test.images[0]
    assert (image[0, 1, 0], image[2, 0, 1], image[31, 31, 2]) == (10, 20, 30)
    assert int(image.sum()) == 60


def test_batches_are_read_whatever_their_order_in_the_tar(tmp_path, archive_file):
    files = dict(reversed(list(synthetic.members().items())))
    shuffled = read_archive(write(tmp_path, synthetic.tar_gz(files)))
    ordered = read_archive(archive_file)
    assert np.array_equal(shuffled.train.images, ordered.train.images)


@pytest.mark.parametrize("name, message", [
    ("../evil.bin", "unsafe member path"),
    (f"{FOLDER}/../../evil.bin", "unsafe member path"),
    ("/etc/evil.bin", "unsafe member path"),
    (f"{FOLDER}/data_batch_6.bin", "unexpected member"),
    ("other/data_batch_1.bin", "unexpected member"),
    (f"{FOLDER}/sub/data_batch_1.bin", "unexpected member"),
])
def test_unexpected_or_unsafe_member_names_are_refused(tmp_path, name, message):
    files = synthetic.members()
    files[name] = b"x"
    with pytest.raises(ArchiveError, match=message):
        read_archive(write(tmp_path, synthetic.tar_gz(files)))


def test_links_are_refused(tmp_path):
    data = synthetic.tar_gz(synthetic.members(), links=[(f"{FOLDER}/readme.html", "/etc/passwd")])
    with pytest.raises(ArchiveError, match="link or special file"):
        read_archive(write(tmp_path, data))


def test_pickle_archive_is_refused_pointing_to_the_binary_one(tmp_path):
    data = synthetic.tar_gz({"cifar-10-batches-py/data_batch_1": b"cos\nsystem\n(S'touch pwned'\ntR."})
    with pytest.raises(ArchiveError, match="python-pickle.*cifar-10-binary.tar.gz"):
        read_archive(write(tmp_path, data))
    assert not (tmp_path / "pwned").exists()


def test_missing_batch_is_named(tmp_path):
    files = synthetic.members()
    del files[f"{FOLDER}/data_batch_3.bin"]
    with pytest.raises(ArchiveError, match="lacks cifar-10-batches-bin/data_batch_3.bin"):
        read_archive(write(tmp_path, synthetic.tar_gz(files)))


def test_batch_length_not_a_whole_number_of_records(tmp_path):
    files = synthetic.members()
    files[f"{FOLDER}/test_batch.bin"] += b"\0" * 5
    with pytest.raises(ArchiveError, match=f"test_batch.bin is {100 * RECORD + 5} bytes"):
        read_archive(write(tmp_path, synthetic.tar_gz(files)))


def test_label_outside_range(tmp_path):
    files = synthetic.members()
    data = bytearray(files[f"{FOLDER}/data_batch_2.bin"])
    data[7 * RECORD] = 10
    files[f"{FOLDER}/data_batch_2.bin"] = bytes(data)
    with pytest.raises(ArchiveError, match="data_batch_2.bin: record 7 has label 10"):
        read_archive(write(tmp_path, synthetic.tar_gz(files)))


def test_member_above_the_size_bound_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar, "MAX_BATCH_RECORDS", 10)
    with pytest.raises(ArchiveError, match=f"is {60 * RECORD} bytes, more than the {10 * RECORD}"):
        read_archive(write(tmp_path, synthetic.archive()))


def test_duplicate_member_is_refused(tmp_path):
    files = synthetic.members()
    data = synthetic.tar_gz(files)
    doubled = synthetic.tar_gz({**files, f"./{FOLDER}/test_batch.bin": files[f"{FOLDER}/test_batch.bin"]})
    assert read_archive(write(tmp_path, data))
    with pytest.raises(ArchiveError, match="appears twice"):
        read_archive(write(tmp_path, doubled))


def test_class_list_that_differs_from_cifar10(tmp_path):
    files = synthetic.members()
    files[f"{FOLDER}/batches.meta.txt"] = b"apple\nbanana\n"
    with pytest.raises(ArchiveError, match="lists classes"):
        read_archive(write(tmp_path, synthetic.tar_gz(files)))


@pytest.mark.parametrize("data", [b"plain text, not gzip", gzip.compress(b"gzip of garbage" * 100, mtime=0), b""],
                         ids=["plain text", "gzip of garbage", "empty"])
def test_not_a_tar_gz(tmp_path, data):
    with pytest.raises(ArchiveError, match="not a readable .tar.gz"):
        read_archive(write(tmp_path, data))


def test_truncated_archive(tmp_path, archive_bytes):
    with pytest.raises(ArchiveError):
        read_archive(write(tmp_path, archive_bytes[: len(archive_bytes) // 2]))
