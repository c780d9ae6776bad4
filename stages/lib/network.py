"""The network of one training run, as the stages after training read it: the trained (or imported)
model in float32 with its layer roles, TensorFlow seeded and deterministic for the run."""

import keras

from lib.cifar import input_channels
from lib.model import ARCHITECTURES, imported, in_float32, load_imported, resolve_roles
from lib.training import deterministic


def network(path, settings, channels, key):
    """The trained (or imported) model at `path`, ready to read in float32, and its layer roles."""
    if imported(settings):
        model = in_float32(load_imported(path, channels))
        return model, resolve_roles(model, settings["roles"], key)
    model = in_float32(keras.models.load_model(path, compile=False))
    return model, resolve_roles(model, ARCHITECTURES[settings["architecture"]].roles, key)


def run_network(path, params, name, seed):
    """One training run's network at `path` and its roles (see network), after seeding TensorFlow and
    making it deterministic for the run (lib.training.deterministic)."""
    deterministic(seed)
    return network(path, params["models"][name], input_channels(params["data"]["grayscale"]), f"models.{name}")
