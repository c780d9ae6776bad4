import numpy as np
import pytest

from lib.cifar import model_inputs
from lib.model import reference
from lib.training import BestEpoch, TrainingError, deterministic, fit, one_hot

RECIPE = {"learning_rate": 0.001, "batch_size": 50, "max_epochs": 2, "patience": 5, "seed": 3,
          "precision": "float32"}


def data(n, seed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(n) % 10
    return model_inputs(images, True), one_hot(labels)


def trained_weights(recipe):
    deterministic(recipe["seed"])
    model = reference(channels=1, precision=recipe["precision"])
    best = fit(model, data(200, 0), data(50, 1), recipe, label="t")
    return model.get_weights(), best


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_same_params_same_weights_bit_for_bit(precision):
    recipe = RECIPE | {"precision": precision}
    (first, best), (second, _) = trained_weights(recipe), trained_weights(recipe)
    assert len(best.history) == 2
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    other, _ = trained_weights(recipe | {"seed": 4})
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


@pytest.mark.slow
def test_a_diverging_loss_stops_training_with_a_clear_error():
    deterministic(0)
    model = reference(channels=1)
    with pytest.raises(TrainingError, match=r"(val_)?loss became (nan|inf) at epoch 1.*learning_rate"):
        fit(model, data(200, 0), data(50, 1), RECIPE | {"learning_rate": 1e30}, label="t")


class Stub:
    """Stands in for a model: numbered weights, a stop flag."""

    def __init__(self):
        self.stop_training, self.calls = False, 0

    def get_weights(self):
        self.calls += 1
        return [self.calls]


def run_epochs(val_accuracies, patience):
    callback, stub = BestEpoch(patience, "t"), Stub()
    callback.set_model(stub)
    for epoch, accuracy in enumerate(val_accuracies):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": accuracy})
        if stub.stop_training:
            break
    return callback


def test_early_stopping_keeps_the_first_best_epoch_and_waits_patience_epochs(capsys):
    callback = run_epochs([0.1, 0.3, 0.2, 0.3, 0.25, 0.29, 0.9], patience=3)
    assert (callback.best_epoch, callback.best_accuracy, callback.best_weights) == (2, 0.3, [2])
    assert len(callback.history) == 5
    assert capsys.readouterr().out.count("\n") == 5


def test_no_early_stop_while_improving():
    callback = run_epochs([0.1, 0.2, 0.3, 0.4], patience=1)
    assert callback.best_epoch == 4 and len(callback.history) == 4
