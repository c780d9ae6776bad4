"""End to end: `dvc repro` in a temporary git repo, the archive served from 127.0.0.1."""

import json

import numpy as np
import pytest

import synthetic
from conftest import ARCHIVE_NAME, small_params
from lib.cifar import CLASSES
from lib.store import load_arrays

pytestmark = pytest.mark.e2e

PATH = f"/{ARCHIVE_NAME}"
OUTPUTS = ["data/raw/cifar-10-binary.tar.gz", "data/frog.npz", "data/subsets/dummy.npz",
           "data/subsets/benchmark.npz", "data/val.npz", "data/test.npz", "data/probe.npz",
           "metrics/data.json"]


@pytest.fixture
def pipeline(project, server, archive_bytes):
    server.files[PATH] = archive_bytes
    params = small_params(server.url(PATH), synthetic.md5(archive_bytes))
    project.write_params(params)
    project.commit("pipeline")
    project.params = params
    return project


def test_repro_downloads_and_carves_then_reruns_nothing(pipeline, server, archive_bytes):
    first = pipeline.dvc("repro", "carve")
    assert "Running stage 'download'" in first.stdout and "Running stage 'carve'" in first.stdout
    assert all((pipeline.path / name).is_file() for name in OUTPUTS)
    assert (pipeline.path / "data/raw" / ARCHIVE_NAME).read_bytes() == archive_bytes

    facts = json.loads((pipeline.path / "metrics/data.json").read_text())
    assert facts["pool_size"] == 299 and facts["frog"] == {"index": 0, "label": "frog"}
    assert facts["subsets"]["dummy"]["per_class"] == {name: 5 for name in CLASSES}
    assert (facts["val_size"], facts["test_size"], facts["probe_size"]) == (40, 60, 20)

    frog = load_arrays(pipeline.path / "data/frog.npz")
    assert frog["images"].shape == (1, 32, 32, 3) and frog["labels"].tolist() == [6]
    dummy = load_arrays(pipeline.path / "data/subsets/dummy.npz")
    benchmark = load_arrays(pipeline.path / "data/subsets/benchmark.npz")
    assert np.array_equal(benchmark["images"][:50], dummy["images"])
    assert 0 not in benchmark["indices"]

    again = pipeline.dvc("repro")
    assert "Running stage" not in again.stdout
    assert "Data and pipelines are up to date" in again.stdout
    assert len(server.requests) == 1
    status = pipeline.dvc("status")
    assert "up to date" in status.stdout


def test_adding_a_model_leaves_every_other_subset_byte_identical(pipeline):
    pipeline.dvc("repro", "carve")
    before = {name: (pipeline.path / f"data/subsets/{name}.npz").read_bytes() for name in ("dummy", "benchmark")}
    pipeline.params["models"]["tiny"] = {"train_size": 20}
    pipeline.write_params(pipeline.params)
    rerun = pipeline.dvc("repro", "carve")
    assert "Stage 'download' didn't change" in rerun.stdout
    for name, data in before.items():
        assert (pipeline.path / f"data/subsets/{name}.npz").read_bytes() == data
    tiny = load_arrays(pipeline.path / "data/subsets/tiny.npz")
    assert np.array_equal(tiny["indices"], load_arrays(pipeline.path / "data/subsets/dummy.npz")["indices"][:20])


def test_the_cached_archive_is_not_downloaded_again(pipeline, server):
    pipeline.dvc("repro", "download")
    (pipeline.path / "data/raw" / ARCHIVE_NAME).unlink()
    pipeline.dvc("checkout", "download")
    assert (pipeline.path / "data/raw" / ARCHIVE_NAME).is_file()
    pipeline.dvc("repro", "--force", "download", "--no-run-cache")
    assert len(server.requests) == 1


def test_a_bad_param_stops_the_stage_with_one_line_naming_it(pipeline):
    pipeline.params["models"]["benchmark"]["train_size"] = 1000
    pipeline.write_params(pipeline.params)
    result = pipeline.dvc("repro", "carve", check=False)
    assert result.returncode != 0
    assert ("error: params.yaml: models.benchmark.train_size = 1000: must be at most 299, the pool"
            in result.stderr)
    assert not (pipeline.path / "data/subsets").exists()
    assert not (pipeline.path / "data/frog.npz").exists()


def test_a_wrong_checksum_fails_the_download_naming_both_and_keeping_nothing(pipeline, archive_bytes):
    pipeline.params["data"]["md5"] = "f" * 32
    pipeline.write_params(pipeline.params)
    result = pipeline.dvc("repro", "download", check=False)
    assert result.returncode != 0
    assert f"expected md5 {'f' * 32}, got {synthetic.md5(archive_bytes)}" in result.stderr
    data = pipeline.path / "data"
    assert [p.name for p in data.rglob("*") if p.is_file() and p.name != ".gitignore"] == []
