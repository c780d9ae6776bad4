"""The reference recipe: Adam, categorical cross-entropy, early stopping on validation accuracy
with the best epoch's weights kept; seeded and deterministic."""

import math
import os
import time
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from lib import ONEDNN
from lib.checkpoints import assign, weights_by_path
from lib.cifar import CLASSES, model_inputs
from lib.model import Device, build, cpu_name, load_imported, precision_for
from lib.stage import StageError
from lib.store import md5_of


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
    non-finite loss, and says one line per epoch (`say`)."""

    def __init__(self, patience, label, say):
        super().__init__()
        self.patience, self.label, self.say = patience, label, say
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
        self.say(f"{self.label}: epoch {row['epoch']:>2}  loss {row['loss']:.4f}  acc {row['accuracy']:.4f}  "
                 f"val_loss {row['val_loss']:.4f}  val_acc {row['val_accuracy']:.4f}  {self.seconds[-1]:.1f} s"
                 f"{'  *best' if row['epoch'] == self.best_epoch else ''}")


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


def fit(model, train, val, recipe, label, say=lambda line: None):
    """Train `model` on (x, y) with early stopping on `val`; leaves the best epoch's weights in it."""
    training = trainer(model)
    compile_reference(training, recipe["learning_rate"])
    best = BestEpoch(recipe["patience"], label, say)
    training.fit(*train, batch_size=recipe["batch_size"], epochs=recipe["max_epochs"], validation_data=val,
                 shuffle=True, verbose=0, callbacks=[best])
    assign(model, best.checkpoints[best.best_epoch], f"{label}: epoch {best.best_epoch}")
    compile_reference(model, recipe["learning_rate"])
    return best


class Trained(NamedTuple):
    """One training run's results: the network, its metrics, and (none for an import) its history,
    every epoch's weights and the wall time of each epoch (a log, not a reproducible output)."""

    model: object
    metrics: dict
    history: list
    checkpoints: dict
    seconds: list


def train_new(settings, recipe, data, label, say):
    """A new network of the model's architecture trained by the recipe on `data` ((x, y), val, test)."""
    (x, y), val, test = data
    where = device()
    precision = precision_for(recipe["precision"], device=where)
    model = build(settings, x.shape[-1], precision)
    say(f"{label}: {settings['architecture']}, {precision} on {where}, {len(x)} training images, "
        f"{len(val[0])} validation, {len(test[0])} test; {model.count_params()} parameters")
    best = fit(model, (x, y), val, recipe, label, say)
    metrics = {"train_size": len(x), "precision": precision, "device": str(where), "epochs_run": len(best.history),
               "best_epoch": best.best_epoch, "val_accuracy": round(best.best_accuracy, 6)}
    return Trained(model, metrics, best.history, best.checkpoints, best.seconds)


def take_in(path, recorded_md5, val, recipe, label, say):
    """A network trained elsewhere, loaded safely, checked against the md5 carve recorded, and
    scored on `val` as the recipe would."""
    if md5_of(path) != recorded_md5:
        raise StageError(f"{path} changed since carve recorded it; run `dvc repro` again")
    model = load_imported(path, val[0].shape[-1])
    say(f"{label}: imported from {path}; {model.count_params()} parameters")
    compile_reference(model, recipe["learning_rate"])
    accuracy = model.evaluate(*val, batch_size=recipe["batch_size"], verbose=0)[1]
    return Trained(model, {"train_size": None, "precision": None, "device": None, "epochs_run": None,
                           "best_epoch": None, "val_accuracy": round(float(accuracy), 6)}, [], {}, [])


def training_run(settings, recipe, splits, grayscale, label, source, say):
    """One run of the train stage: `splits` the (subset, val, test) arrays; the network trained here,
    or taken in from `source` (an imported model's .keras), tested once on the test split."""
    subset, val, test = splits
    val, test = ((model_inputs(s["images"], grayscale), one_hot(s["labels"])) for s in (val, test))
    if source:
        run = take_in(source, str(subset["keras_md5"]), val, recipe, label, say)
    else:
        run = train_new(settings, recipe, ((model_inputs(subset["images"], grayscale), one_hot(subset["labels"])),
                                           val, test), label, say)
    loss, accuracy = run.model.evaluate(*test, batch_size=recipe["batch_size"], verbose=0)
    run.metrics.update(test_accuracy=round(float(accuracy), 6), test_loss=round(float(loss), 6))
    return run


def timing(seconds):
    """The log of a run's wall time per epoch."""
    return {"seconds_per_epoch": round(sum(seconds) / len(seconds), 2) if seconds else None,
            "epochs_run": len(seconds), "seconds": seconds}


def outcome(label, run):
    """The line a training run ends with."""
    metrics = run.metrics
    return (f"{label}: " + (f"best epoch {metrics['best_epoch']} of {metrics['epochs_run']}, " if run.seconds else "")
            + f"val acc {metrics['val_accuracy']:.4f}, test acc {metrics['test_accuracy']:.4f}")

