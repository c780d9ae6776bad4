"""The models as DVC artifacts: what dvc.yaml's `artifacts:` declares for each model in params.yaml,
so that `dvc artifacts get`, GTO and DVC's model registry find them.

An artifact is a model's folder, data/models/<model>/, holding one .keras file per training seed.
dvc.yaml cannot loop over params in `artifacts:` (and an interpolated key would break the file the
moment a model left params.yaml), so the section is written out; tests/test_registry.py checks it
against params.yaml and prints the block to paste where they differ.
"""

import re

import yaml

from lib.model import imported
from lib.params import artifact_name

MODELS_DIR = "data/models"
ARTIFACT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-/]*[a-z0-9])?$")  # DVC's rule for artifact names


def artifact(settings, grayscale):
    """A model's declaration: its folder, type, a description and labels."""
    channels = "grayscale" if grayscale else "colour"
    if imported(settings):
        return {"type": "model", "desc": f"imported from {settings['keras']}, measured on {channels} CIFAR-10",
                "labels": ["imported", "cifar10", channels]}
    size, architecture = settings["train_size"], settings["architecture"]
    return {"type": "model",
            "desc": f"the {architecture} CNN trained on {size} {channels} CIFAR-10 images: one .keras per seed",
            "labels": [architecture, "cifar10", channels, f"train-size-{size}"]}


def artifacts(params):
    """dvc.yaml's `artifacts:` for every model of params.yaml."""
    return {artifact_name(model): {"path": f"{MODELS_DIR}/{model}", **artifact(settings, params["data"]["grayscale"])}
            for model, settings in params["models"].items()}


def as_yaml(section):
    return yaml.safe_dump({"artifacts": section}, sort_keys=False, width=120)
