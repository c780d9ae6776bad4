"""Where a training step's time goes: TensorFlow's profiler over a few epochs of the train stage's
way, op time summed per layer (forward and backward), each layer's arithmetic and its fraction of
the machine's peak.

The peak is measured in the same process at the same thread count: a 2048×2048 matrix product in
float32 and in bfloat16 (oneDNN; AMX tiles where the processor has them), per CPU second. A layer's
rate is its floating-point operations in training (forward, and backward to its weights and, but
for the first layer, to its input: 3× forward, 2× for the first) over its CPU time: the process's
CPU time shared out in proportion to the layer's op time (summed across threads). Ops outside the
layers (the optimizer, the input pipeline, casts) are listed apart.

    python benchmarks/train_profile.py --images 10000   # after `dvc repro carve`
"""

import argparse
import collections
import glob
import os
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stages"))

from lib.params import PRECISIONS, load as load_params  # noqa: E402


def peak_gflops(tf, dtype, side=2048, repeats=7):
    """Best of `repeats` square matrix products, in GFLOP per CPU second (per thread, whatever else
    the machine is doing)."""
    a = tf.cast(tf.random.normal((side, side)), dtype)
    product = tf.function(lambda m: tf.matmul(m, m))
    product(a).numpy()
    best = min(_cpu_seconds(lambda: product(a).numpy()) for _ in range(repeats))
    return 2 * side ** 3 / best / 1e9


def _cpu_seconds(call):
    start = time.process_time()
    call()
    return time.process_time() - start


def layer_flops(model, batch):
    """Floating-point operations of one training step, per layer (multiply-add = 2)."""
    flops, first = {}, True
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            out, cin = layer.output.shape, layer.input.shape[-1]
            forward = 2 * batch * out[1] * out[2] * out[3] * layer.kernel_size[0] * layer.kernel_size[1] * cin
        elif kind == "Dense":
            positions = 1
            for size in layer.output.shape[1:-1]:
                positions *= size
            forward = 2 * batch * positions * layer.input.shape[-1] * layer.units
        else:
            continue
        flops[layer.name] = forward * (2 if first else 3)
        first = False
    return flops


def op_times(logdir, layer_names):
    """Op time in seconds summed over threads: {layer or other group: seconds}."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    space.ParseFromString(Path(glob.glob(f"{logdir}/plugins/profile/*/*.xplane.pb")[0]).read_bytes())
    plane = next(p for p in space.planes if p.name == "/host:CPU")
    pattern = re.compile(r"/(" + "|".join(map(re.escape, layer_names)) + r")(_\d+)?/")
    totals = collections.Counter()
    for line in plane.lines:
        for event in line.events:
            name = plane.event_metadata[event.metadata_id].name
            if line.name.startswith("tf_data"):
                group = "input pipeline"
            elif not line.name.startswith("tf_Compute") or "while/body" not in name:
                continue
            elif match := pattern.search(name):
                group = match.group(1)
            elif "/adam/" in name or name.split("/")[-1].startswith("adam"):
                group = "optimizer (Adam)"
            else:
                group = "other (loss, metrics, casts)"
            totals[group] += event.duration_ps / 1e12
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default="data/subsets/benchmark.npz")
    parser.add_argument("--images", type=int, default=10000, help="training images profiled (one epoch over them)")
    parser.add_argument("--precision", choices=PRECISIONS, help="default: params.yaml's")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: one per core)")
    args = parser.parse_args()
    precision = args.precision or load_params("params.yaml")["train"]["precision"]

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras

    from lib.cifar import model_inputs
    from lib.model import reference
    from lib.store import load_arrays
    from lib.training import compile_reference, deterministic, one_hot, trainer

    keras.utils.disable_interactive_logging()
    arrays = load_arrays(args.train)
    x, y = model_inputs(arrays["images"][:args.images], True), one_hot(arrays["labels"][:args.images])
    deterministic(0, args.threads)
    model = reference(x.shape[-1], precision)
    training = trainer(model)
    compile_reference(training, 1e-3)
    training.fit(x[:1000], y[:1000], batch_size=100, epochs=1, verbose=0)  # trace outside the profile
    threads = args.threads or os.cpu_count()
    peaks = {dtype: peak_gflops(tf, getattr(tf, dtype)) for dtype in ("float32", "bfloat16")}
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        cpu, wall = time.process_time(), time.perf_counter()
        training.fit(x, y, batch_size=100, epochs=1, verbose=0)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        tf.profiler.experimental.stop()
        times = op_times(logdir, [layer.name for layer in model.layers])
    steps = len(x) // 100
    flops = layer_flops(model, 100)
    peak = peaks["float32" if precision == "float32" else "bfloat16"]
    print(f"{len(x)} images ({steps} steps of 100), {precision}, {threads} threads: wall {wall:.2f} s, "
          f"process CPU {cpu:.2f} s, op time {sum(times.values()):.2f} s")
    print(f"peak per CPU second (2048² matmul): float32 {peaks['float32']:.0f} GFLOP/s, "
          f"bfloat16 {peaks['bfloat16']:.0f} GFLOP/s")
    print(f"{'layer':<30}{'CPU s':>8}{'share':>8}{'GFLOP/step':>12}{'GFLOP/s':>10}{'of peak':>9}")
    total = sum(times.values())
    order = [layer.name for layer in model.layers if layer.name in times] + sorted(set(times) - {l.name for l in model.layers})
    for group in order:
        seconds = times[group] / total * cpu
        work = flops.get(group)
        rate = work * steps / seconds / 1e9 if work else None
        print(f"{group:<30}{seconds:8.2f}{seconds / cpu:8.1%}" + (
            f"{work / 1e9:12.3f}{rate:10.1f}{rate / peak:9.1%}" if work else ""))
    all_flops = sum(flops.values()) * steps
    print(f"whole step: {all_flops / 1e9:.0f} GFLOP in {cpu:.2f} CPU s = {all_flops / cpu / 1e9:.1f} GFLOP/s per "
          f"CPU second, {all_flops / cpu / 1e9 / peak:.1%} of the {precision} peak")


if __name__ == "__main__":
    main()
