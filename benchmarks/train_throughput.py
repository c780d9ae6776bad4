"""Seconds per training epoch, several ways interleaved in one run, each way in a process of its own.

- reference: the notebook's `model.fit(numpy_x, numpy_y, batch_size=100)` on the float32 model
  compiled as there (one step per call into TensorFlow, Keras' dropout), with the kernels
  TensorFlow picks by default for this CPU (oneDNN's only where the CPU has AVX-512 VNNI, BF16 or
  AMX: what a new user running the notebook gets).
- float32: the project before the speed work: float32, `lib.training.compile_reference` (several
  steps per call), Keras' dropout, TensorFlow's default kernels.
- project: what the train stage does today: `--precision` (default: params.yaml's),
  `lib.training.trainer` (dropout masks drawn as bits) compiled by `compile_reference`, oneDNN's
  kernels (which `lib` turns on).
- Only when asked for with `--ways`: reference_onednn (the reference with oneDNN's kernels, to
  show what they alone bring) and keras_dropout (the project's way with Keras' own dropout, to
  show what the bit masks save).

Each way is a process of its own (the kernels are chosen when TensorFlow is imported), started
once and told to run one epoch at a time: epochs alternate between the ways (A, B, C, A, B, C…)
so machine noise hits all alike; each way's first epoch (tracing) is left out of the medians.
Process CPU time (each worker's own) is the figure that decides; wall time is printed beside it.
TensorFlow's threads: one per core for the reference and float32 ways (TensorFlow's default);
`--threads` (default: params.yaml's `train.threads`, as the train stage) for the others. A way
named `project@1` runs with one thread whatever `--threads` says, so `--ways project@0,project@1`
compares thread counts. The ratios printed last are each way's time over the last way's.

    python benchmarks/train_throughput.py --epochs 6   # after `dvc repro carve`
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
STAGES = Path(__file__).resolve().parents[1] / "stages"
sys.path.insert(0, str(STAGES))

BATCH = 100
WAYS = ("reference", "reference_onednn", "float32", "keras_dropout", "project")
DEFAULT_WAYS = ("reference", "float32", "project")
DEFAULT_KERNELS = ("reference", "float32")  # ways run with TensorFlow's own choice of kernels for this CPU


def build(way, channels, precision):
    from lib.model import reference
    from lib.training import compile_reference, trainer

    if way.startswith("reference"):
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


def worker(args):
    """One way's model in this process: reads `epoch N` or `evaluate` lines, answers each with one line.
    TensorFlow is imported before `lib`, so the kernels are those the environment `Way` set asks for."""
    import keras
    import tensorflow as tf

    from lib.cifar import model_inputs
    from lib.store import load_arrays
    from lib.training import one_hot, onednn

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(0)
    tf.config.experimental.enable_op_determinism()
    keras.utils.disable_interactive_logging()
    (x, y), test = ((model_inputs(a["images"], not args.rgb), one_hot(a["labels"]))
                    for a in (load_arrays(args.train), load_arrays(args.test)))
    model = build(args.worker, x.shape[-1], args.precision)
    print(f"ready {len(x)} oneDNN={'on' if onednn() else 'off'}", flush=True)
    for line in sys.stdin:
        command, *rest = line.split()
        if command == "epoch":
            epoch = int(rest[0])
            wall, cpu = time.perf_counter(), time.process_time()
            model.fit(x, y, batch_size=BATCH, epochs=epoch + 1, initial_epoch=epoch, shuffle=True, verbose=0)
            print(f"{time.perf_counter() - wall} {time.process_time() - cpu}", flush=True)
        else:
            loss, accuracy = model.evaluate(*test, batch_size=500, verbose=0)
            print(f"{loss} {accuracy}", flush=True)


class Way:
    """A worker process for one way."""

    def __init__(self, spec, args, precision, threads):
        way, _, pinned = spec.partition("@")
        threads = int(pinned) if pinned else 0 if way in DEFAULT_KERNELS else threads
        command = [sys.executable, __file__, "--worker", way, "--train", args.train, "--test", args.test,
                   "--precision", precision, "--threads", str(threads)] + (["--rgb"] if args.rgb else [])
        environment = dict(os.environ)
        if way in DEFAULT_KERNELS:
            environment.pop("TF_ENABLE_ONEDNN_OPTS", None)
        else:
            environment["TF_ENABLE_ONEDNN_OPTS"] = "1"
        self.log = tempfile.TemporaryFile(mode="w+")  # TensorFlow's start-up lines, shown if the worker fails
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                        text=True, env=environment)
        self.name, self.threads, self.times = spec, threads or "one per core", []
        self.ready = self.answer()

    def ask(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return [float(value) for value in self.answer().split()]

    def answer(self):
        line = self.process.stdout.readline()
        if not line:
            status = self.process.wait()
            self.log.seek(0)
            sys.exit(f"{self.log.read()[-3000:]}the {self.name} worker failed (exit status {status})")
        return line.strip()

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default="data/subsets/benchmark.npz")
    parser.add_argument("--test", default="data/test.npz")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--precision", help="the project way's precision (default: params.yaml's, resolved)")
    parser.add_argument("--threads", type=int, help="the project ways' TensorFlow threads (0: one per core; "
                        "default: params.yaml's)")
    parser.add_argument("--ways", default=",".join(DEFAULT_WAYS), help=f"comma-separated, from {', '.join(WAYS)}")
    parser.add_argument("--rgb", action="store_true", help="three input channels instead of grayscale")
    parser.add_argument("--worker", choices=WAYS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    from lib.model import precision_for
    from lib.params import PRECISIONS, load as load_params

    ways = args.ways.split(",")
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is left out of the medians")
    if not {way.partition("@")[0] for way in ways} <= set(WAYS) or len(set(ways)) < len(ways):
        parser.error(f"--ways: unknown or repeated way in {args.ways!r}")
    if any(not way.partition("@")[2].isdigit() for way in ways if "@" in way):
        parser.error(f"--ways: a thread count after @ is a whole number, in {args.ways!r}")
    if args.precision not in (None, *PRECISIONS):
        parser.error(f"--precision: one of {', '.join(PRECISIONS)}")
    recipe = load_params("params.yaml")["train"]
    precision = precision_for(args.precision or recipe["precision"])
    threads = recipe["threads"] if args.threads is None else args.threads

    workers = [Way(way, args, precision, threads) for way in ways]
    print(f"batch {BATCH}, {args.epochs} epochs each, interleaved; project precision {precision}; "
          f"{os.cpu_count()} CPUs; {workers[0].ready.split()[1]} images", flush=True)
    for w in workers:
        print(f"  {w.name:<16} {w.ready.split()[2]}, threads {w.threads}", flush=True)
    for epoch in range(args.epochs):
        for w in workers:
            w.times.append(w.ask(f"epoch {epoch}"))
            print(f"epoch {epoch + 1:>2} {w.name:<16}  wall {w.times[-1][0]:7.2f} s  cpu {w.times[-1][1]:7.2f} s",
                  flush=True)

    medians = {w.name: tuple(statistics.median(t[i] for t in w.times[1:]) for i in (0, 1)) for w in workers}
    for w in workers:
        loss, accuracy = w.ask("evaluate")
        w.close()
        print(f"{w.name:<16}  median per epoch: wall {medians[w.name][0]:6.2f} s, cpu {medians[w.name][1]:6.2f} s;  "
              f"test accuracy after {args.epochs} epochs {accuracy:.4f} (loss {loss:.4f})")
    new = ways[-1]
    for old in ways[:-1]:
        print(f"{old}/{new} ratio: wall {medians[old][0] / medians[new][0]:.2f}, "
              f"cpu {medians[old][1] / medians[new][1]:.2f}")


if __name__ == "__main__":
    main()
