import yaml

from conftest import ROOT
from lib.params import artifact_name, load
from lib.registry import ARTIFACT_NAME, artifacts, as_yaml


def test_every_model_in_params_is_declared_an_artifact_in_dvc_yaml():
    expected = artifacts(load(ROOT / "params.yaml"))
    declared = yaml.safe_load((ROOT / "dvc.yaml").read_text()).get("artifacts")
    assert declared == expected, "dvc.yaml's artifacts differ from params.yaml's models; paste:\n" + as_yaml(expected)


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
