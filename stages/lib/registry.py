"""The models as DVC artifacts: what dvc.yaml's `artifacts:` declares for each model in params.yaml,
so that `dvc artifacts get`, GTO and DVC's model registry find them.

An artifact is a model's folder, data/models/<model>/, holding one .keras file per training seed.
dvc.yaml cannot loop over params in `artifacts:` (and an interpolated key would break the file the
moment a model left params.yaml), so the section is written out. After adding or removing a model:

    PYTHONPATH=stages python -m lib.registry --write    # rewrite dvc.yaml's artifacts: from params.yaml
    PYTHONPATH=stages python -m lib.registry            # or only print the block

tests/test_registry.py checks that the project's dvc.yaml declares every model of its params.yaml.
"""

import argparse
import re
from pathlib import Path

import yaml

from lib.model import imported
from lib.params import artifact_name, load
from lib.store import atomic_path

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
    return yaml.safe_dump({"artifacts": section}, sort_keys=False, width=120, default_flow_style=None)


SECTION = re.compile(r"^artifacts:", re.MULTILINE)  # the section's key, at the top level of dvc.yaml


def with_section(text, block):
    """dvc.yaml's text with its `artifacts:` section (the file's last, by this project's layout)
    replaced by `block`, or `block` appended where it has none."""
    found = SECTION.search(text)
    if found is None:
        return text.rstrip("\n") + "\n\n" + block
    if re.search(r"^\S", text[found.end():], re.MULTILINE):
        raise ValueError("dvc.yaml has a top-level section after artifacts:; move artifacts: to the end")
    return text[:found.start()] + block


def main():
    parser = argparse.ArgumentParser(description="Print dvc.yaml's `artifacts:` section for the models of "
                                                 "params.yaml, or write it into dvc.yaml (--write).")
    parser.add_argument("--params", default="params.yaml", help="the models' params (default params.yaml)")
    parser.add_argument("--dvc-yaml", default="dvc.yaml", help="the file --write rewrites (default dvc.yaml)")
    parser.add_argument("--write", action="store_true", help="rewrite the section in --dvc-yaml")
    args = parser.parse_args()
    block = as_yaml(artifacts(load(args.params)))
    if not args.write:
        print(block, end="")
        return
    path = Path(args.dvc_yaml)
    text = with_section(path.read_text(), block)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    print(f"{path}: artifacts for {', '.join(artifacts(load(args.params)))}")


if __name__ == "__main__":
    from lib.stage import run

    run(main, tensorflow=False)

