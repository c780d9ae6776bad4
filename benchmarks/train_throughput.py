"""Seconds per training epoch: the reference's way against the project's, interleaved in one run.

The reference's way is `model.fit(numpy_x, numpy_y, batch_size=100)` on a float32 model compiled
as in the notebook. The project's way is what the train stage does: the same model compiled by
`lib.training.compile_reference` (several steps per call into TensorFlow) at `--precision`.
Epochs alternate A, B, A, B… so machine noise hits both alike; the first epoch of each (tracing)
is left out of the medians. Process CPU time decides; wall time is printed beside it.

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

import keras  # noqa: E402

from lib.cifar import model_inputs  # noqa: E402
from lib.model import reference  # noqa: E402
from lib.params import PRECISIONS  # noqa: E402
from lib.store import load_arrays  # noqa: E402
from lib.training import compile_reference, deterministic, one_hot  # noqa: E402

BATCH = 100


def load(path, grayscale):
    arrays = load_arrays(path)
    return model_inputs(arrays["images"], grayscale), one_hot(arrays["labels"])


def reference_way(channels):
    model = reference(channels)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def project_way(channels, precision):
    model = reference(channels, precision)
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
    parser.add_argument("--precision", choices=PRECISIONS, default="bfloat16")
    parser.add_argument("--rgb", action="store_true", help="three input channels instead of grayscale")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is left out of the medians")

    x, y = load(args.train, not args.rgb)
    x_test, y_test = load(args.test, not args.rgb)
    deterministic(0)
    ways = {"reference": reference_way(x.shape[-1]), "project": project_way(x.shape[-1], args.precision)}
    print(f"{len(x)} training images, batch {BATCH}, {args.epochs} epochs each, interleaved; "
          f"project precision {args.precision}; {os.cpu_count()} CPUs")
    times = {name: [] for name in ways}
    for epoch in range(args.epochs):
        for name, model in ways.items():
            wall, cpu = timed_epoch(model, x, y, epoch)
            times[name].append((wall, cpu))
            print(f"epoch {epoch + 1:>2} {name:<9}  wall {wall:7.2f} s  cpu {cpu:7.2f} s", flush=True)

    medians = {}
    for name, model in ways.items():
        steady = times[name][1:]
        medians[name] = (statistics.median(w for w, _ in steady), statistics.median(c for _, c in steady))
        loss, accuracy = model.evaluate(x_test, y_test, batch_size=500, verbose=0)
        print(f"{name:<9}  median per epoch: wall {medians[name][0]:6.2f} s, cpu {medians[name][1]:6.2f} s;  "
              f"test accuracy {accuracy:.4f} (loss {loss:.4f})")
    print(f"wall-time ratio reference/project: {medians['reference'][0] / medians['project'][0]:.2f}")
    print(f"CPU-time ratio reference/project: {medians['reference'][1] / medians['project'][1]:.2f}")


if __name__ == "__main__":
    keras.utils.disable_interactive_logging()
    main()
