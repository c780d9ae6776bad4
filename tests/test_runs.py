"""Runs interrupted, run twice at once, or missing their outputs: DVC and the stages lose nothing."""

import copy
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import yaml

pytestmark = pytest.mark.e2e

MODEL = "data/models/dummy/0.keras"


def background_repro(project, *targets):
    """`dvc repro` in its own process group, its output in a file."""
    log = open(project.path / "background.log", "w")
    env = {"PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin", "HOME": str(project.path)}
    return subprocess.Popen([sys.executable, "-m", "dvc", "repro", *targets], cwd=project.path, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(project, text, process, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in (project.path / "background.log").read_text():
            return
        if process.poll() is not None:
            raise AssertionError(f"dvc repro ended before {text!r}:\n{(project.path / 'background.log').read_text()}")
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} after {timeout} s")


def slow_training(project):
    project.params["train"].update(max_epochs=200, patience=200)
    project.write_params(project.params)


def test_a_stage_killed_mid_run_leaves_no_output_and_the_next_repro_restores_it(reproduced):
    model = (reproduced.path / MODEL).read_bytes()
    params = copy.deepcopy(reproduced.params)
    slow_training(reproduced)
    process = background_repro(reproduced, "train@dummy-0")
    wait_for(reproduced, "dummy seed 0: epoch  2", process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (reproduced.path / MODEL).exists()  # neither the killed run's nor the earlier params' model
    assert not (reproduced.path / "metrics/train/dummy/0.json").exists()

    reproduced.write_params(params)
    again = reproduced.dvc("repro", "train@dummy-0")
    assert "Stage 'train@dummy-0' is cached" in again.stdout
    assert (reproduced.path / MODEL).read_bytes() == model


def test_a_second_repro_while_one_runs_is_refused_and_nothing_is_corrupted(reproduced):
    slow_training(reproduced)
    reproduced.params["train"].update(max_epochs=6, patience=6)
    reproduced.write_params(reproduced.params)
    process = background_repro(reproduced, "train@dummy-0")
    wait_for(reproduced, "dummy seed 0: epoch  1", process)
    second = reproduced.dvc("repro", "train@dummy-0", check=False)
    assert second.returncode != 0
    assert "is busy, it is being blocked by" in second.stderr or "Unable to acquire lock" in second.stderr
    assert process.wait(timeout=300) == 0
    assert "Running stage" not in reproduced.dvc("repro", "train@dummy-0").stdout


def test_deleted_outputs_come_back_from_the_cache_without_recomputing(reproduced):
    model = (reproduced.path / MODEL).read_bytes()
    (reproduced.path / MODEL).unlink()
    (reproduced.path / "data/subjects.npz").unlink()
    assert "deleted" in reproduced.dvc("status", "train@dummy-0").stdout
    reproduced.dvc("checkout", "carve", "train@dummy-0")
    assert (reproduced.path / MODEL).read_bytes() == model
    (reproduced.path / MODEL).unlink()
    again = reproduced.dvc("repro", "train@dummy-0")
    assert "Running stage" not in again.stdout
    assert (reproduced.path / MODEL).read_bytes() == model


def outputs(project):
    """Every stage output's md5 as dvc.lock records it."""
    lock = yaml.safe_load((project.path / "dvc.lock").read_text())
    return {out["path"]: out["md5"] for stage in lock["stages"].values() for out in stage.get("outs", [])}


@pytest.mark.long
def test_every_stage_forced_again_with_the_trainings_side_by_side_gives_identical_outputs(reproduced):
    """The baseline ran its stages one after the other; forced again here, the trainings two at once
    (`xargs -P 2`, as a 2-core machine would), every output's hash is the same and dvc.lock records each.
    Every stage's code runs again: each stage after training once, for the first run (the second
    run's are the same code on its own model, whose training is forced here too)."""
    first = outputs(reproduced)
    stages = reproduced.dvc("stage", "list", "--name-only").stdout.split()
    trainings = [name for name in stages if name.startswith("train@")]
    upstream = stages[:stages.index(trainings[0])]
    assert upstream == ["download", "carve"] and len(trainings) == 2
    reproduced.dvc("repro", "-f", "-s", *upstream)
    reproduced.run("bash", "-c", f"printf '%s\\n' {' '.join(trainings)} | xargs -P 2 -n 1 dvc repro -f -s")
    for name in trainings:
        assert "Running stage" not in reproduced.dvc("repro", "-s", name).stdout  # recorded in dvc.lock
    run = trainings[0].split("@")[1]
    others = [name for name in stages if name not in upstream + trainings and ("@" not in name or name.endswith(f"@{run}"))]
    assert len(others) == len({name.split("@")[0] for name in stages}) - 3  # one of each stage but those above
    forced = reproduced.dvc("repro", "-f", "-s", *others)
    assert re.findall(r"Running stage '([^']+)'", forced.stdout) == others
    assert outputs(reproduced) == first
    assert len(first) >= 12 and {"data/checkpoints/dummy/0.npz", "data/dynamics/benchmark/0"} <= set(first)
    assert reproduced.dvc("status").stdout.strip() == "Data and pipelines are up to date."
