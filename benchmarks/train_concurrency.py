"""Two training runs one after the other with two threads each, against the same two runs side by
side with one thread each: wall and CPU time of the pair, interleaved in one run.

Each run is a separate process, as a DVC stage is: `import tensorflow`, the subset, and `--epochs`
epochs of the train stage's way (`lib.training.trainer`, `compile_reference`) at params.yaml's
precision on the first `--images` images of the benchmark subset. The two ways alternate
(sequential, side by side, sequential, …); medians over `--repeats` pairs. CPU time is that of
the child processes (resource.getrusage).

    python benchmarks/train_concurrency.py --repeats 3   # after `dvc repro carve`
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "stages"))


def worker(args):
    """One training run in this process, with `args.threads` threads."""
    from lib.cifar import model_inputs
    from lib.model import reference
    from lib.params import load
    from lib.store import load_arrays
    from lib.training import compile_reference, deterministic, one_hot, trainer

    deterministic(args.seed, args.threads)
    arrays = load_arrays(args.train)
    x, y = model_inputs(arrays["images"][:args.images], True), one_hot(arrays["labels"][:args.images])
    model = trainer(reference(x.shape[-1], load("params.yaml")["train"]["precision"]))
    compile_reference(model, 1e-3)
    model.fit(x, y, batch_size=100, epochs=args.epochs, shuffle=True, verbose=0)


def pair(args, threads, side_by_side):
    """(wall, cpu) of two runs (seeds 0 and 1)."""
    command = [sys.executable, __file__, "--worker", "--threads", str(threads), "--train", args.train,
               "--images", str(args.images), "--epochs", str(args.epochs)]
    before, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    if side_by_side:
        runs = [subprocess.Popen(command + ["--seed", str(seed)]) for seed in (0, 1)]
        if any(run.wait() for run in runs):
            sys.exit("a training run failed")
    else:
        for seed in (0, 1):
            subprocess.run(command + ["--seed", str(seed)], check=True)
    wall, after = time.perf_counter() - wall, resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default="data/subsets/benchmark.npz")
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    ways = {"one after the other, 2 threads each": (2, False), "side by side, 1 thread each": (1, True)}
    print(f"two runs of {args.epochs} epochs over {args.images} images each; {os.cpu_count()} CPUs", flush=True)
    times = {way: [] for way in ways}
    for repeat in range(args.repeats):
        for way, (threads, side_by_side) in ways.items():
            times[way].append(pair(args, threads, side_by_side))
            print(f"{repeat + 1}: {way:<36} wall {times[way][-1][0]:7.1f} s  cpu {times[way][-1][1]:7.1f} s", flush=True)
    medians = {way: tuple(statistics.median(t[i] for t in times[way]) for i in (0, 1)) for way in ways}
    for way, (wall, cpu) in medians.items():
        print(f"median {way:<36} wall {wall:7.1f} s  cpu {cpu:7.1f} s")
    (wall_a, cpu_a), (wall_b, cpu_b) = medians.values()
    print(f"ratio one-after-the-other / side-by-side: wall {wall_a / wall_b:.2f}, cpu {cpu_a / cpu_b:.2f}")


if __name__ == "__main__":
    main()
