"""Runs interrupted, run twice at once, or missing their outputs: DVC and the stages lose nothing."""

import os
import signal
import subprocess
import sys
import time

import pytest

import synthetic
from conftest import ARCHIVE_NAME, small_params

pytestmark = pytest.mark.e2e

PATH = f"/{ARCHIVE_NAME}"
MODEL = "data/models/dummy/0.keras"


@pytest.fixture
def pipeline(project, server, archive_bytes):
    server.files[PATH] = archive_bytes
    project.params = small_params(server.url(PATH), synthetic.md5(archive_bytes))
    project.write_params(project.params)
    project.commit("pipeline")
    return project


def background_repro(pipeline, *targets):
    """`dvc repro` in its own process group, its output in a file."""
    log = open(pipeline.path / "background.log", "w")
    env = {"PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin", "HOME": str(pipeline.path)}
    return subprocess.Popen([sys.executable, "-m", "dvc", "repro", *targets], cwd=pipeline.path, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(pipeline, text, process, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in (pipeline.path / "background.log").read_text():
            return
        if process.poll() is not None:
            raise AssertionError(f"dvc repro ended before {text!r}:\n{(pipeline.path / 'background.log').read_text()}")
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} after {timeout} s")


def slow_training(pipeline):
    pipeline.params["train"].update(max_epochs=200, patience=200)
    pipeline.write_params(pipeline.params)


def test_a_stage_killed_mid_run_leaves_no_output_and_the_next_repro_redoes_it(pipeline):
    pipeline.dvc("repro", "carve")
    slow_training(pipeline)
    process = background_repro(pipeline, "train@dummy-0")
    wait_for(pipeline, "dummy seed 0: epoch  2", process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (pipeline.path / MODEL).exists()
    assert not (pipeline.path / "metrics/train/dummy/0.json").exists()

    pipeline.params["train"].update(max_epochs=2, patience=5)
    pipeline.write_params(pipeline.params)
    again = pipeline.dvc("repro", "train@dummy-0")
    assert "Running stage 'train@dummy-0'" in again.stdout
    assert (pipeline.path / MODEL).is_file()


def test_a_second_repro_while_one_runs_is_refused_and_nothing_is_corrupted(pipeline):
    pipeline.dvc("repro", "carve")
    slow_training(pipeline)
    pipeline.params["train"].update(max_epochs=6, patience=6)
    pipeline.write_params(pipeline.params)
    process = background_repro(pipeline, "train@dummy-0")
    wait_for(pipeline, "dummy seed 0: epoch  1", process)
    second = pipeline.dvc("repro", "train@dummy-0", check=False)
    assert second.returncode != 0
    assert "is busy, it is being blocked by" in second.stderr or "Unable to acquire lock" in second.stderr
    assert process.wait(timeout=300) == 0
    assert "Running stage" not in pipeline.dvc("repro", "train@dummy-0").stdout


def test_deleted_outputs_come_back_from_the_cache_without_recomputing(pipeline):
    pipeline.dvc("repro", "train@dummy-0")
    model = (pipeline.path / MODEL).read_bytes()
    (pipeline.path / MODEL).unlink()
    (pipeline.path / "data/subjects.npz").unlink()
    assert "deleted" in pipeline.dvc("status", "train@dummy-0").stdout
    pipeline.dvc("checkout", "carve", "train@dummy-0")
    assert (pipeline.path / MODEL).read_bytes() == model
    (pipeline.path / MODEL).unlink()
    again = pipeline.dvc("repro", "train@dummy-0")
    assert "Running stage" not in again.stdout
    assert (pipeline.path / MODEL).read_bytes() == model


@pytest.mark.long
def test_training_runs_side_by_side_record_and_equal_the_runs_one_after_the_other(pipeline):
    pipeline.params["train"]["threads"] = 1
    pipeline.write_params(pipeline.params)
    pipeline.dvc("repro", "carve")
    pipeline.run("bash", "-c", "dvc stage list --name-only | grep '^train@' | tac | xargs -P 2 -n 1 dvc repro -s")
    models = {name: (pipeline.path / f"data/models/{name}/0.keras").read_bytes() for name in ("dummy", "benchmark")}
    for name in models:
        assert "Running stage" not in pipeline.dvc("repro", "-s", f"train@{name}-0").stdout  # recorded in dvc.lock
        pipeline.dvc("repro", "-f", "-s", f"train@{name}-0")
        assert (pipeline.path / f"data/models/{name}/0.keras").read_bytes() == models[name]
    rest = pipeline.dvc("status").stdout  # what is left to run: every stage downstream, no training
    assert "extract@dummy-0:" in rest and "train@" not in rest, rest
