"""A training run's checkpoints: every epoch's weights (epoch 0: the initial ones) in one .npz,
keyed "<epoch>/<variable path>" (e.g. "012/conv2d_1/kernel"), beside an `epochs` array; written
byte-deterministically, read one epoch at a time."""

import numpy as np

from lib.stage import StageError
from lib.store import save_arrays

EPOCHS = "epochs"


def weights_by_path(model):
    """{variable path (e.g. "conv2d_1/kernel"): a copy of its value} of every weight of `model`."""
    return {variable.path: np.array(variable.numpy()) for variable in model.weights}


def assign(model, weights, what):
    """Set every weight of `model` from {variable path: value}; refuses a set that does not fit."""
    paths = [variable.path for variable in model.weights]
    if sorted(paths) != sorted(weights):
        raise StageError(f"{what} holds weights {sorted(weights)}, the model has {sorted(paths)}")
    for variable in model.weights:
        if tuple(variable.shape) != weights[variable.path].shape:
            raise StageError(f"{what}: {variable.path} has shape {weights[variable.path].shape}, "
                             f"the model's is {tuple(variable.shape)}")
        variable.assign(weights[variable.path])


def key(epoch, path):
    return f"{epoch:03d}/{path}"


def save_checkpoints(path, checkpoints):
    """Write {epoch: {variable path: value}} (no epochs for a model trained elsewhere)."""
    arrays = {key(epoch, name): value for epoch, weights in sorted(checkpoints.items())
              for name, value in weights.items()}
    save_arrays(path, **{EPOCHS: np.array(sorted(checkpoints), np.int64)}, **arrays)


class Checkpoints:
    """An open checkpoints file: `epochs`, and `weights(epoch)` read from disk on demand."""

    def __init__(self, path):
        self.path = path
        self.archive = np.load(path, allow_pickle=False)
        self.epochs = [int(e) for e in self.archive[EPOCHS]]

    def weights(self, epoch):
        if epoch not in self.epochs:
            raise StageError(f"{self.path} has no epoch {epoch}; it holds epochs {self.epochs}")
        prefix = key(epoch, "")
        return {name[len(prefix):]: self.archive[name] for name in self.archive.files if name.startswith(prefix)}

    def close(self):
        self.archive.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


INITIAL_EPOCH = 0
REINITIALISED = "re-initialised"  # an untrained network drawn from the layers' own initialisers (no epoch 0)


def reinitialised(model, seed):
    """A copy of `model` with fresh weights from its layers' own initialisers, seeded."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.models.clone_model(model)


def initial_network(model, path, seed):
    """(the network before training, what it is): epoch 0 of the checkpoints at `path` where they
    hold it, else `model` re-initialised from its own initialisers with `seed` (an imported model
    has no epoch 0; Adebayo et al. randomise the same way)."""
    import keras

    with Checkpoints(path) as checkpoints:
        if INITIAL_EPOCH not in checkpoints.epochs:
            return reinitialised(model, seed), REINITIALISED
        initial = keras.models.clone_model(model)
        assign(initial, checkpoints.weights(INITIAL_EPOCH), f"{path}, epoch {INITIAL_EPOCH}")
    return initial, f"epoch {INITIAL_EPOCH}"


BASELINE_SEED = 1000  # added to a run's seed: an independent initialisation, the sanity check's baseline
