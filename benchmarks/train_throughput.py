"""Seconds per training epoch, three ways interleaved in one run: the reference's, the project's
previous default and the project's way today.

- reference: `model.fit(numpy_x, numpy_y, batch_size=100)` on the float32 model compiled as in
  the notebook (one step per call into TensorFlow, Keras' dropout).
- float32: the project before the speed work: float32, `lib.training.compile_reference` (several
  steps per call), Keras' dropout.
- project: what the train stage does today at `--precision` (default: params.yaml's):
  `lib.training.trainer` (dropout masks drawn as bits) compiled by `compile_reference`.
- keras_dropout (only when asked for with `--ways`): the project's way with Keras' own dropout,
  to measure what the bit masks save.

Epochs alternate between the ways (A, B, C, A, B, C…) so machine noise hits all alike; each way's
first epoch (tracing) is left out of the medians. Process CPU time is the figure that decides
(the machine's other load barely moves it); wall time is printed beside it. `--threads` sets
TensorFlow's threads for the whole process (0: one per core).

    python benchmarks/train_throughput.py --epochs 6   # after `dvc repro carve`
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stages"))

from lib.params import PRECISIONS, load as load_params  # noqa: E402

BATCH = 100
WAYS = ("reference", "float32", "keras_dropout", "project")
DEFAULT_WAYS = ("reference", "float32", "project")


def build(way, channels, precision):
    from lib.model import reference
    from lib.training import compile_reference, trainer

    if way == "reference":
        model = reference(channels)
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    elif way == "float32":
        model = reference(channels)
        compile_reference(model, learning_rate=1e-3)
    elif way == "keras_dropout":
        model = reference(channels, precision)
        compile_reference(model, learning_rate=1e-3)
    else:
        model = trainer(reference(channels, precision))
        compile_reference(model, learning_rate=1e-3)
    return model


def timed_epoch(model, x, y, epoch):
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(x, y, batch_size=BATCH, epochs=epoch + 1, initial_epoch=epoch, shuffle=True, verbose=0)
    return time.perf_counter() - wall, time.process_time() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default="data/subsets/benchmark.npz")
    parser.add_argument("--test", default="data/test.npz")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--precision", choices=PRECISIONS, help="the project way's precision (default: params.yaml's)")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: one per core)")
    parser.add_argument("--ways", default=",".join(DEFAULT_WAYS), help=f"comma-separated, from {', '.join(WAYS)}")
    parser.add_argument("--rgb", action="store_true", help="three input channels instead of grayscale")
    args = parser.parse_args()
    ways = args.ways.split(",")
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is left out of the medians")
    if not set(ways) <= set(WAYS):
        parser.error(f"--ways: unknown way in {args.ways!r}")
    precision = args.precision or load_params("params.yaml")["train"]["precision"]

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras

    from lib.cifar import model_inputs
    from lib.store import load_arrays
    from lib.training import deterministic, one_hot

    keras.utils.disable_interactive_logging()
    (x, y), (x_test, y_test) = ((model_inputs(a["images"], not args.rgb), one_hot(a["labels"]))
                                for a in (load_arrays(args.train), load_arrays(args.test)))
    deterministic(0)
    models = {way: build(way, x.shape[-1], precision) for way in ways}
    print(f"{len(x)} training images, batch {BATCH}, {args.epochs} epochs each, interleaved; project precision "
          f"{precision}; threads {args.threads or 'one per core'}; {os.cpu_count()} CPUs", flush=True)
    times = {way: [] for way in ways}
    for epoch in range(args.epochs):
        for way, model in models.items():
            times[way].append(timed_epoch(model, x, y, epoch))
            print(f"epoch {epoch + 1:>2} {way:<9}  wall {times[way][-1][0]:7.2f} s  cpu {times[way][-1][1]:7.2f} s",
                  flush=True)

    medians = {way: tuple(statistics.median(t[i] for t in times[way][1:]) for i in (0, 1)) for way in ways}
    for way, model in models.items():
        loss, accuracy = model.evaluate(x_test, y_test, batch_size=500, verbose=0)
        print(f"{way:<9}  median per epoch: wall {medians[way][0]:6.2f} s, cpu {medians[way][1]:6.2f} s;  "
              f"test accuracy after {args.epochs} epochs {accuracy:.4f} (loss {loss:.4f})")
    for old in ways:
        if old != "project" and "project" in ways:
            print(f"{old}/project ratio: wall {medians[old][0] / medians['project'][0]:.2f}, "
                  f"cpu {medians[old][1] / medians['project'][1]:.2f}")


if __name__ == "__main__":
    main()
