import numpy as np
import pytest

from lib.cifar import model_inputs
from lib.model import Device, cpu_name, precision_for, reference
from lib.training import BestEpoch, TrainingError, deterministic, device, fit, one_hot

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


def visible_gpus():
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


NO_GPU = "no GPU visible to TensorFlow (`pip install '.[gpu]'` on a machine with an NVIDIA driver)"


def test_without_a_gpu_training_runs_on_the_cpu_and_names_it():
    if visible_gpus():
        pytest.skip("a GPU is visible: training runs there")
    assert device() == Device("CPU", cpu_name())


@pytest.mark.slow
def test_on_a_gpu_training_runs_there_and_is_reproducible_bit_for_bit():
    if not visible_gpus():
        pytest.skip(NO_GPU)
    import tensorflow as tf

    where = device()
    assert where.kind == "GPU" and where.name and tf.constant(1.0).device.endswith("GPU:0")
    recipe = RECIPE | {"precision": precision_for("auto", device=where)}
    (first, _), (second, _) = trained_weights(recipe), trained_weights(recipe)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


@pytest.mark.slow
def test_a_diverging_loss_stops_training_with_a_clear_error():
    deterministic(0)
    model = reference(channels=1)
    with pytest.raises(TrainingError, match=r"(val_)?loss became (nan|inf) at epoch 1.*learning_rate"):
        fit(model, data(200, 0), data(50, 1), RECIPE | {"learning_rate": 1e30}, label="t")


class Variable(np.ndarray):
    """Stands in for a Keras variable: an array with a path."""

    def numpy(self):
        return np.asarray(self)


class Stub:
    """Stands in for a model: one weight numbered by how often it was read, a stop flag."""

    def __init__(self):
        self.stop_training, self.reads = False, 0

    @property
    def weights(self):
        self.reads += 1
        variable = np.array([self.reads]).view(Variable)
        variable.path = "layer/kernel"
        return [variable]


def run_epochs(val_accuracies, patience):
    callback, stub = BestEpoch(patience, "t", print), Stub()
    callback.set_model(stub)
    callback.on_train_begin()
    for epoch, accuracy in enumerate(val_accuracies):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": accuracy})
        if stub.stop_training:
            break
    return callback


def test_early_stopping_keeps_the_first_best_epoch_and_waits_patience_epochs(capsys):
    callback = run_epochs([0.1, 0.3, 0.2, 0.3, 0.25, 0.29, 0.9], patience=3)
    assert (callback.best_epoch, callback.best_accuracy) == (2, 0.3)
    assert {epoch: int(w["layer/kernel"][0]) for epoch, w in callback.checkpoints.items()} == {
        0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 5: 6}  # the initial weights, then every epoch's as it ended
    assert len(callback.history) == 5
    assert capsys.readouterr().out.count("\n") == 5


def test_no_early_stop_while_improving():
    callback = run_epochs([0.1, 0.2, 0.3, 0.4], patience=1)
    assert callback.best_epoch == 4 and len(callback.history) == 4


def test_bit_dropout_keeps_half_the_values_doubled_and_is_the_identity_at_inference():
    import keras

    from lib.training import BitDropout

    keras.utils.set_random_seed(0)
    layer = BitDropout(seed=1)
    x = np.random.default_rng(0).uniform(1, 2, (100, 8, 8, 64)).astype(np.float32)
    first, second = (np.asarray(layer(x, training=True)) for _ in range(2))
    for out in (first, second):
        kept = out != 0
        assert np.array_equal(out[kept], 2 * x[kept])
        assert abs(kept.mean() - 0.5) < 0.005  # 409,600 fair bits: sd 0.0008
        assert abs(kept[..., 0].mean() - 0.5) < 0.03 and abs(kept[:, 0].mean() - 0.5) < 0.03
    assert (first != 0).mean() != (second != 0).mean()  # a new mask every call
    assert np.array_equal(np.asarray(layer(x, training=False)), x)
    odd = np.ones((3, 7), np.float32)  # a size that is not a multiple of 16
    assert set(np.unique(np.asarray(layer(odd, training=True)))) <= {0.0, 2.0}


def test_the_trainer_starts_from_the_models_weights_and_only_its_dropout_differs():
    import keras

    from lib.training import BitDropout, trainer

    deterministic(0)
    model = reference(channels=1)
    twin = trainer(model)
    assert [type(layer).__name__ for layer in twin.layers] == [
        "BitDropout" if isinstance(layer, keras.layers.Dropout) else type(layer).__name__ for layer in model.layers]
    assert any(isinstance(layer, BitDropout) for layer in twin.layers)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights()))
    x = data(20, 0)[0]
    assert np.array_equal(np.asarray(twin(x, training=False)), np.asarray(model(x, training=False)))


def _in_stages(code, **env):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    environment = {key: value for key, value in os.environ.items() if key != "TF_ENABLE_ONEDNN_OPTS"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT / "stages", capture_output=True, text=True,
                          env={**environment, **env})


def test_train_threads_sets_tensorflows_thread_pools():
    code = ("from lib.training import deterministic; deterministic(0, 1); import tensorflow as tf; tf.constant(1); "
            "print(tf.config.threading.get_intra_op_parallelism_threads(), "
            "tf.config.threading.get_inter_op_parallelism_threads())")
    out = _in_stages(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1"]


def test_the_library_turns_on_onednns_kernels_on_any_cpu():
    out = _in_stages("import lib, tensorflow; from lib.training import onednn; print(onednn())")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True"]


def test_training_refuses_tensorflow_without_onednn():
    out = _in_stages("from lib.training import deterministic; deterministic(0)", TF_ENABLE_ONEDNN_OPTS="0")
    assert out.returncode != 0
    assert "StageError: TensorFlow runs without oneDNN's kernels (TF_ENABLE_ONEDNN_OPTS='0')" in out.stderr
