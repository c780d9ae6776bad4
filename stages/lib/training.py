"""The reference recipe: Adam, categorical cross-entropy, early stopping on validation accuracy
with the best epoch's weights kept; seeded and deterministic."""

import math
import os
import time

import keras
import numpy as np
import tensorflow as tf

from lib import ONEDNN
from lib.checkpoints import assign, weights_by_path
from lib.cifar import CLASSES
from lib.model import Device, cpu_name
from lib.stage import StageError


class TrainingError(StageError):
    """Training diverged (a non-finite loss)."""


def one_hot(labels):
    return keras.utils.to_categorical(labels, len(CLASSES)).astype(np.float32)


def onednn():
    """Whether TensorFlow computes with oneDNN's kernels (see `lib`)."""
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def deterministic(seed, threads=0):
    """Seed Python, NumPy and TensorFlow, make TensorFlow's ops deterministic, and fix its thread
    count (0: one per core). The thread count is part of the result: it changes float rounding, as
    the kernels do, so it refuses TensorFlow without oneDNN's."""
    if not onednn():
        raise StageError(f"TensorFlow runs without oneDNN's kernels ({ONEDNN}={os.environ.get(ONEDNN)!r}); the "
                         f"pipeline's results are computed with them: unset {ONEDNN} or set it to 1")
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    threading = tf.config.threading
    if threading.get_intra_op_parallelism_threads() != threads:  # unset is 0; once TensorFlow runs it is fixed
        threading.set_intra_op_parallelism_threads(threads)
    if threading.get_inter_op_parallelism_threads() != threads:
        threading.set_inter_op_parallelism_threads(threads)


def device():
    """The device Keras trains on: TensorFlow's first GPU where it sees one (every op goes there),
    else the CPU."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return Device("CPU", cpu_name())
    details = tf.config.experimental.get_device_details(gpus[0])
    return Device("GPU", details.get("device_name", gpus[0].name), details.get("compute_capability"))


HISTORY = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")  # the columns of a training history


class BestEpoch(keras.callbacks.Callback):
    """Keeps the weights of the best validation-accuracy epoch and of every epoch (`checkpoints`,
    epoch 0 the initial weights), stops after `patience` epochs without a better one, refuses a
    non-finite loss, and prints one line per epoch."""

    def __init__(self, patience, label):
        super().__init__()
        self.patience, self.label = patience, label
        self.best_accuracy, self.best_epoch = -math.inf, 0
        self.history = []
        self.checkpoints = {}
        self.seconds = []  # wall time per epoch: a log, kept out of the reproducible outputs

    def on_train_begin(self, logs=None):
        self.checkpoints[0] = weights_by_path(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, **{k: float(logs[k]) for k in HISTORY[1:]}}
        self.history.append(row)
        self.checkpoints[row["epoch"]] = weights_by_path(self.model)
        self.seconds.append(round(time.perf_counter() - self.started, 3))
        diverged = [key for key in ("loss", "val_loss") if not math.isfinite(row[key])]
        if diverged:
            self.model.stop_training = True
            raise TrainingError(f"{self.label}: {diverged[0]} became {row[diverged[0]]} at epoch {row['epoch']}; "
                                "training diverged (try a smaller train.learning_rate); no model was saved")
        if row["val_accuracy"] > self.best_accuracy:
            self.best_accuracy, self.best_epoch = row["val_accuracy"], row["epoch"]
        elif row["epoch"] - self.best_epoch >= self.patience:
            self.model.stop_training = True
        print(f"{self.label}: epoch {row['epoch']:>2}  loss {row['loss']:.4f}  acc {row['accuracy']:.4f}  "
              f"val_loss {row['val_loss']:.4f}  val_acc {row['val_accuracy']:.4f}  {self.seconds[-1]:.1f} s"
              f"{'  *best' if row['epoch'] == self.best_epoch else ''}", flush=True)


STEPS_PER_EXECUTION = 50


class BitDropout(keras.layers.Layer):
    """Dropout at rate 1/2 drawing one random bit per value, 16 values per random number: masks
    of the same law as keras.layers.Dropout's (independent, fair) at a sixteenth of its random
    draws (which were an eighth of a float32 training step). Used in training only; no saved
    model holds it."""

    BITS = 16

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training:
            return inputs
        count = tf.size(inputs)
        words = keras.random.randint(((count + self.BITS - 1) // self.BITS, 1), 0, 1 << self.BITS,
                                     seed=self.seed_generator)
        bits = tf.bitwise.bitwise_and(tf.bitwise.right_shift(words, tf.range(self.BITS, dtype=words.dtype)), 1)
        keep = tf.cast(tf.reshape(tf.reshape(bits, [-1])[:count], tf.shape(inputs)), inputs.dtype)
        return inputs * keep * tf.cast(2.0, inputs.dtype)


def _fast_dropout(layer):
    if isinstance(layer, keras.layers.Dropout) and layer.rate == 0.5 and layer.noise_shape is None:
        return BitDropout(name=layer.name, dtype=layer.dtype_policy)
    return layer.__class__.from_config(layer.get_config())


def trainer(model):
    """`model` with its rate-1/2 dropout layers drawing bits (BitDropout), starting from the same weights."""
    twin = keras.models.clone_model(model, clone_function=_fast_dropout)
    twin.set_weights(model.get_weights())
    return twin


def compile_reference(model, learning_rate, steps_per_execution=STEPS_PER_EXECUTION):
    """The reference's loss, optimiser and metric; several steps per call into TensorFlow."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy",
                  metrics=["accuracy"], steps_per_execution=steps_per_execution)


def fit(model, train, val, recipe, label):
    """Train `model` on (x, y) with early stopping on `val`; leaves the best epoch's weights in it."""
    training = trainer(model)
    compile_reference(training, recipe["learning_rate"])
    best = BestEpoch(recipe["patience"], label)
    training.fit(*train, batch_size=recipe["batch_size"], epochs=recipe["max_epochs"], validation_data=val,
                 shuffle=True, verbose=0, callbacks=[best])
    assign(model, best.checkpoints[best.best_epoch], f"{label}: epoch {best.best_epoch}")
    compile_reference(model, recipe["learning_rate"])
    return best
