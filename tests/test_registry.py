import os
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT
from lib.params import artifact_name, load
from lib.registry import ARTIFACT_NAME, artifacts, as_yaml, with_section


def test_every_model_in_params_is_declared_an_artifact_in_dvc_yaml():
    expected = artifacts(load(ROOT / "params.yaml"))
    declared = yaml.safe_load((ROOT / "dvc.yaml").read_text()).get("artifacts")
    assert declared == expected, ("dvc.yaml's artifacts differ from params.yaml's models: run "
                                  "`PYTHONPATH=stages python -m lib.registry --write`")


def test_artifacts_name_each_model_folder_with_its_size_architecture_or_source():
    params = {"data": {"grayscale": False}, "models": {
        "Small_One": {"train_size": 500, "architecture": "no_dropout"},
        "outside": {"keras": "imported/x.keras", "roles": None}}}
    found = artifacts(params)
    assert list(found) == ["small-one", "outside"]
    assert found["small-one"]["path"] == "data/models/Small_One" and found["small-one"]["type"] == "model"
    assert found["small-one"]["labels"] == ["no_dropout", "cifar10", "colour", "train-size-500"]
    assert "500 colour CIFAR-10 images" in found["small-one"]["desc"]
    assert found["outside"]["labels"][0] == "imported" and "imported/x.keras" in found["outside"]["desc"]
    assert all(ARTIFACT_NAME.match(name) for name in found)
    assert yaml.safe_load(as_yaml(found)) == {"artifacts": found}


def test_artifact_names_follow_dvc_rules():
    assert artifact_name("Benchmark_2") == "benchmark-2" and ARTIFACT_NAME.match(artifact_name("Benchmark_2"))
    assert not ARTIFACT_NAME.match("Benchmark_2") and not ARTIFACT_NAME.match("a-")


def test_the_command_rewrites_only_the_artifacts_section_for_a_model_added_to_params(tmp_path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["models"]["tiny"] = {"train_size": 500, "architecture": "no_dropout"}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    original = (ROOT / "dvc.yaml").read_text()
    (tmp_path / "dvc.yaml").write_text(original)
    result = subprocess.run([sys.executable, "-m", "lib.registry", "--write", "--params", "params.yaml"], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "stages")}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "dvc.yaml").read_text()
    head = original[:original.index("\nartifacts:")]
    assert written.startswith(head) and written.count("artifacts:") == original.count("artifacts:")
    assert yaml.safe_load(written)["artifacts"] == artifacts(load(tmp_path / "params.yaml"))
    assert yaml.safe_load(written)["artifacts"]["tiny"]["labels"][-1] == "train-size-500"
    assert {k: v for k, v in yaml.safe_load(written).items() if k != "artifacts"} == \
        {k: v for k, v in yaml.safe_load(original).items() if k != "artifacts"}


def test_a_section_after_artifacts_is_refused_not_overwritten():
    with pytest.raises(ValueError, match="after artifacts"):
        with_section("stages: {}\nartifacts:\n  a: {}\nplots: []\n", "artifacts: {}\n")
    assert with_section("stages: {}\n", "artifacts: {}\n") == "stages: {}\n\nartifacts: {}\n"

