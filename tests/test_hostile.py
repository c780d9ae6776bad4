"""Bad inputs through the stage scripts themselves: exit status 1, one `error:` line naming the cause,
nothing at any output path, nothing written anywhere else, and a clean run once the input is fixed."""

import gzip
import pickle
import subprocess
import sys

import numpy as np
import pytest
import yaml

import synthetic
from conftest import ROOT, small_params
from lib.cifar import FOLDER, RECORD

pytestmark = pytest.mark.slow

CARVE_OUTPUTS = ("subjects.npz", "subsets", "val.npz", "test.npz", "probe.npz", "data.json")


def stage(cwd, script, *args, **environment):
    """Run a stage script in `cwd`; its home (where Keras keeps its settings) lies outside that folder."""
    home = cwd.parent / f"{cwd.name}-home"
    home.mkdir(exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), **environment}
    return subprocess.run([sys.executable, str(ROOT / "stages" / script), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def one_error_line(result, cause):
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert cause in errors[0], errors[0]


def snapshot(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(small_params("unused.tar.gz", "0" * 32)))
    return tmp_path


def carve(workdir, archive):
    out = workdir / "out"
    return stage(workdir, "carve.py", "--archive", archive, "--subjects", out / "subjects.npz", "--subsets", out / "subsets",
                 "--val", out / "val.npz", "--test", out / "test.npz", "--probe", out / "probe.npz",
                 "--metrics", out / "data.json")


class Evil:
    """A pickle that would run a command if anything unpickled it."""

    def __reduce__(self):
        return (subprocess.call, (["touch", "PWNED"],))


def with_member(name, data):
    files = synthetic.members()
    files[name] = data
    return synthetic.tar_gz(files)


def without(name):
    files = synthetic.members()
    del files[f"{FOLDER}/{name}"]
    return synthetic.tar_gz(files)


def relabelled(value):
    files = synthetic.members()
    batch = bytearray(files[f"{FOLDER}/data_batch_1.bin"])
    batch[3 * RECORD] = value
    files[f"{FOLDER}/data_batch_1.bin"] = bytes(batch)
    return synthetic.tar_gz(files)


def oversized():
    files = synthetic.members()
    files[f"{FOLDER}/data_batch_1.bin"] = bytes(10_001 * RECORD)
    return synthetic.tar_gz(files)


ARCHIVES = {
    "not gzip": (lambda: b"just some text", "not a readable .tar.gz"),
    "gzip of garbage": (lambda: gzip.compress(np.random.default_rng(0).bytes(5000)), "not a readable .tar.gz"),
    "parent path": (lambda: with_member(f"{FOLDER}/../escape.bin", b"x"), "unsafe member path"),
    "absolute path": (lambda: with_member("/tmp/escape.bin", b"x"), "unsafe member path"),
    "link": (lambda: synthetic.tar_gz(synthetic.members(), links=[(f"{FOLDER}/readme.html", "/etc/passwd")]),
             "link or special file"),
    "member larger than a batch": (oversized, "more than the 30730000"),
    "missing batch": (lambda: without("test_batch.bin"), "lacks cifar-10-batches-bin/test_batch.bin"),
    "ragged batch": (lambda: with_member(f"{FOLDER}/data_batch_2.bin", bytes(RECORD + 7)),
                     "not a whole number of 3073-byte records"),
    "label 10": (lambda: relabelled(10), "record 3 has label 10"),
    "pickle archive": (lambda: synthetic.tar_gz({"cifar-10-batches-py/data_batch_1": pickle.dumps(Evil())}),
                       "python-pickle CIFAR-10 archive"),
}


@pytest.mark.parametrize("case", ARCHIVES)
def test_a_hostile_archive_stops_carve_with_one_line_and_leaves_nothing(workdir, case):
    make, cause = ARCHIVES[case]
    bad = workdir / "bad.tar.gz"
    bad.write_bytes(make())
    before = snapshot(workdir)
    one_error_line(carve(workdir, bad), cause)
    assert snapshot(workdir) == before
    assert not (workdir / "PWNED").exists()

    good = workdir / "good.tar.gz"
    good.write_bytes(synthetic.archive())
    assert carve(workdir, good).returncode == 0
    assert sorted(p.name for p in (workdir / "out").iterdir()) == sorted(CARVE_OUTPUTS)


def set_params(workdir, change):
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    change(params)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))


@pytest.mark.parametrize("change, cause", [
    (lambda p: p["models"]["benchmark"].update(train_size=10_000), "models.benchmark.train_size = 10000"),
    (lambda p: p["subjects"]["frog"].update(index=1), "subjects.frog.label = 'frog': train image 1 is labelled"),
    (lambda p: p["subjects"]["frog"].update(index=300), "subjects.frog.index = 300: must be below 300"),
    (lambda p: p["subjects"].update(car={"split": "test", "index": 100}), "subjects.car.index = 100: must be below 100"),
    (lambda p: p["subjects"].update(cat={"file": "images/cat.png", "label": "kitten"}), "subjects.cat.label = 'kitten'"),
    (lambda p: p["analysis"].update(probe_size=61), "analysis.probe_size = 61: must be at most 60"),
    (lambda p: p["split"].update(val_size=100), "split.val_size = 100: must be below 100"),
    (lambda p: p["analysis"].update(bins=1), "analysis.bins = 1: must be a whole number >= 2"),
    (lambda p: p["split"].update(sede=1), "split.sede = 1: unknown key"),
    (lambda p: p["models"].update({"a/b": {"train_size": 20}}), "models.a/b"),
    (lambda p: p["subjects"].update(Frog={"split": "test", "index": 1}),  # the params file lists Frog first
     "subjects.frog = {'index': 0, 'label': 'frog', 'split': 'train'}: differs from subjects.Frog only in case"),
    (lambda p: p["models"].update(Dummy={"train_size": 20}),
     "models.dummy = {'train_size': 50}: differs from models.Dummy only in case"),
])
def test_a_bad_param_stops_carve_before_any_output(workdir, change, cause):
    good = workdir / "good.tar.gz"
    good.write_bytes(synthetic.archive())
    set_params(workdir, change)
    before = snapshot(workdir)
    one_error_line(carve(workdir, good), cause)
    assert snapshot(workdir) == before


def download(workdir, url, md5):
    set_params(workdir, lambda p: p["data"].update(url=url, md5=md5))
    return stage(workdir, "download.py", "--out", workdir / "out" / "archive.tar.gz")


@pytest.mark.parametrize("case", ["wrong checksum", "truncated file", "404", "html", "unknown host"])
def test_a_bad_download_stops_with_one_line_and_leaves_nothing(workdir, server, archive_bytes, case):
    server.files["/a.tar.gz"] = archive_bytes
    server.files["/short.tar.gz"] = archive_bytes[: len(archive_bytes) // 2]
    server.files["/page"] = b"<html>sign in</html>"
    server.content_type["/page"] = "text/html"
    url, md5, cause = {
        "wrong checksum": (server.url("/a.tar.gz"), "f" * 32, f"expected md5 {'f' * 32}, got"),
        "truncated file": (server.url("/short.tar.gz"), synthetic.md5(archive_bytes),
                           f"expected md5 {synthetic.md5(archive_bytes)}, got"),
        "404": (server.url("/missing.tar.gz"), synthetic.md5(archive_bytes), "HTTP 404"),
        "html": (server.url("/page"), synthetic.md5(archive_bytes), "served an HTML page"),
        "unknown host": ("http://cifar.invalid/a.tar.gz", synthetic.md5(archive_bytes), "cannot resolve host"),
    }[case]
    before = snapshot(workdir)
    one_error_line(download(workdir, url, md5), cause)
    assert snapshot(workdir) == before
    fixed = download(workdir, server.url("/a.tar.gz"), synthetic.md5(archive_bytes))
    assert fixed.returncode == 0, fixed.stderr
    assert (workdir / "out" / "archive.tar.gz").read_bytes() == archive_bytes


@pytest.mark.parametrize("fault", ["connection dropped mid-file", "server error then success"])
def test_a_passing_network_fault_is_retried_by_the_stage_and_succeeds(workdir, server, archive_bytes, fault):
    server.files["/a.tar.gz"] = archive_bytes
    if fault == "connection dropped mid-file":
        server.drop_after["/a.tar.gz"] = [len(archive_bytes) // 3]
    else:
        server.errors["/a.tar.gz"] = [503]
    result = download(workdir, server.url("/a.tar.gz"), synthetic.md5(archive_bytes))
    assert result.returncode == 0, result.stderr
    assert "retrying from byte" in result.stderr
    assert (workdir / "out" / "archive.tar.gz").read_bytes() == archive_bytes
    assert sorted(p.name for p in (workdir / "out").iterdir()) == ["archive.tar.gz"]


def test_unparsable_params_stop_every_stage_with_one_line(workdir):
    (workdir / "params.yaml").write_text("data: {url: [unclosed\n")
    one_error_line(stage(workdir, "download.py", "--out", workdir / "out" / "a.tar.gz"), "not valid YAML")


def subject_file(workdir, name, data):
    (workdir / "images").mkdir(exist_ok=True)
    (workdir / "images" / name).write_bytes(data)
    set_params(workdir, lambda p: p["subjects"].update(photo={"file": f"images/{name}"}))


def tiny_png():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (48, 40), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def png_bomb():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("name, data, cause", [
    ("missing.png", None, "subjects.photo.file = 'images/missing.png': no such file"),
    ("notes.png", b"not an image at all", "is not a readable PNG or JPEG image"),
    ("bomb.png", "bomb", "more than the 40000000 pixels an image may have (a decompression bomb?)"),
    ("pickle.jpg", pickle.dumps(Evil()), "is not a readable PNG or JPEG image"),
])
def test_a_bad_subject_image_stops_carve_with_one_line_and_leaves_nothing(workdir, name, data, cause):
    good = workdir / "good.tar.gz"
    good.write_bytes(synthetic.archive())
    if data is None:
        set_params(workdir, lambda p: p["subjects"].update(photo={"file": f"images/{name}"}))
    else:
        subject_file(workdir, name, png_bomb() if data == "bomb" else data)
    before = snapshot(workdir)
    one_error_line(carve(workdir, good), cause)
    assert snapshot(workdir) == before and not (workdir / "PWNED").exists()
    subject_file(workdir, "fixed.png", tiny_png())
    assert carve(workdir, good).returncode == 0


@pytest.mark.parametrize("link", ["file", "folder"])
@pytest.mark.parametrize("kind", ["subject", "imported model"])
def test_a_linked_file_or_folder_stops_carve_with_one_line_and_leaves_nothing(workdir, tmp_path_factory, link, kind):
    """A picture or network outside the project, reached through a symbolic link, is refused: the
    results would depend on a file git does not track."""
    good = workdir / "good.tar.gz"
    good.write_bytes(synthetic.archive())
    folder, name = ("images", "photo.png") if kind == "subject" else ("imported", "theirs.keras")
    outside = tmp_path_factory.mktemp("outside")
    (outside / name).write_bytes(tiny_png() if kind == "subject" else b"PK not read")
    (workdir / folder).mkdir(exist_ok=True)
    if link == "file":
        (workdir / folder / name).symlink_to(outside / name)
        path, linked = f"{folder}/{name}", f"{folder}/{name}"
    else:
        (workdir / folder / "elsewhere").symlink_to(outside, target_is_directory=True)
        path, linked = f"{folder}/elsewhere/{name}", f"{folder}/elsewhere"
    key = "subjects.photo.file" if kind == "subject" else "models.theirs.keras"
    set_params(workdir, lambda p: (p["subjects"] if kind == "subject" else p["models"]).update(
        {key.split(".")[1]: {"file": path} if kind == "subject" else {"keras": path}}))
    before = snapshot(workdir)
    one_error_line(carve(workdir, good), f"{key} = '{path}': {linked} is a symbolic link")
    assert snapshot(workdir) == before


def hostile_keras(workdir, kind):
    """A .keras file under imported/: a Lambda layer, a wrong input shape, or not a zip."""
    (workdir / "imported").mkdir(exist_ok=True)
    path = workdir / "imported" / "theirs.keras"
    if kind == "not a zip":
        path.write_bytes(b"PK\x03\x04 truncated, not really a zip")
        return
    script = f"""
import keras
inputs = keras.Input((32, 32, {3 if kind == "rgb input" else 1}))
x = keras.layers.Conv2D(4, 3, activation="relu", name="stem")(inputs)
if {kind == "lambda"!r}:
    x = keras.layers.Lambda(lambda t: t * 2, name="double")(x)
x = keras.layers.GlobalAveragePooling2D(name="pooled")(x)
keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="probs")(x)).save({str(path)!r})
"""
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, timeout=300)


@pytest.mark.parametrize("kind, cause", [
    ("lambda", "Lambda runs code stored in the file"),
    ("rgb input", "input shape (32, 32, 3), expected (32, 32, 1)"),
    ("not a zip", "is not a Keras 3 .keras file"),
])
def test_a_hostile_imported_model_stops_carve_with_one_line_and_leaves_nothing(workdir, kind, cause):
    good = workdir / "good.tar.gz"
    good.write_bytes(synthetic.archive())
    hostile_keras(workdir, kind)
    set_params(workdir, lambda p: p["models"].update(theirs={"keras": "imported/theirs.keras"}))
    before = snapshot(workdir)
    one_error_line(carve(workdir, good), cause)
    assert snapshot(workdir) == before


def test_tensorflow_without_onednn_stops_train_with_one_line_and_leaves_nothing(workdir, archive_file):
    assert carve(workdir, archive_file).returncode == 0
    out = workdir / "out"
    before = snapshot(workdir)
    result = stage(workdir, "train.py", "--name", "dummy", "--seed", 0, "--subset", out / "subsets" / "dummy.npz",
                   "--val", out / "val.npz", "--test", out / "test.npz", "--model", out / "dummy.keras",
                   "--checkpoints", out / "dummy.npz", "--history", out / "dummy.csv", "--metrics", out / "dummy.json",
                   "--timing", out / "timing.json", TF_ENABLE_ONEDNN_OPTS="0")
    one_error_line(result, "TensorFlow runs without oneDNN's kernels (TF_ENABLE_ONEDNN_OPTS='0')")
    assert snapshot(workdir) == before


def test_more_top_images_than_the_test_split_holds_stops_visualize_before_tensorflow(workdir, archive_file):
    assert carve(workdir, archive_file).returncode == 0
    out = workdir / "out"
    set_params(workdir, lambda p: p["channels"].update(tally=101))
    before = snapshot(workdir)
    result = stage(workdir, "visualize.py", "--name", "dummy", "--seed", 0, "--model", out / "none.keras",
                   "--checkpoints", out / "none.npz", "--val", out / "val.npz", "--test", out / "test.npz", "--out", out / "channels")
    one_error_line(result, "channels.tally = 101: must be at most 100, the images of the official test split")
    assert snapshot(workdir) == before
