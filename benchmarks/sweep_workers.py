"""A sweep split between worker clones on this machine, gathered by a reviewer, against the same sweep
in one clone: wall and CPU time of each, in one run.

    python benchmarks/sweep_workers.py --params plots/published/sweep/params.yaml \\
        --archive ../shared/cifar10/cifar-10-binary.tar.gz --md5 40eb903e36b61c6442a61a8bdb82f3d0

Both sides start from a fresh clone of HEAD with the sweep's params committed (data.url pointing at
the archive) and an empty DVC cache; the download (a copy of the local archive) is inside both.

- **one clone**, the way one machine runs a sweep (docs/speed.md, two runs side by side):
  `dvc repro carve`, the train stages longest first through `xargs -P 2 -n 1 dvc repro -s`, `dvc repro`.
- **workers**: a bare git repository as `origin`, an SSH remote served by Debian's sshd on 127.0.0.1
  (tests/sshd.py), and `--workers` clones at once, each running its share of the models
  (lib/workers.py) as one experiment, `dvc exp run --pull -n share-K -S ~models.…`, then
  `dvc exp push origin share-K` and `dvc push --run-cache`; then a reviewer clone: `dvc exp pull origin -A
  --run-cache` and `dvc exp run --pull -n sweep` (the whole sweep, every stage with cached outputs
  restored from the run cache: no training).

Prints each side's wall time and CPU time (every process it ran), each worker's, the reviewer's
`dvc exp show` (test accuracies, verdicts, the models of each experiment), and whether the
reviewer's headline metrics equal the one clone's. `--first workers` runs that side first;
`--keep DIR` keeps the clones.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "stages"), str(ROOT / "tests")]

from lib.workers import overrides, shares  # noqa: E402
from sshd import ssh_server  # noqa: E402


ENV = {**os.environ, "COLUMNS": "400"}  # wide enough for `dvc exp show`
REVIEW = r"Experiment|^acc\.|held|claims|models\."  # the reviewer's columns: accuracies, verdicts, each share's models


def sh(*command, cwd):
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ENV)
    if done.returncode:
        sys.exit(f"{cwd}: {' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done.stdout


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def lab(folder, params_file, archive, md5):
    """A clone of HEAD with the sweep's params committed, and a bare copy of it as `origin`."""
    sh("git", "clone", "--quiet", str(ROOT), str(folder / "lab"), cwd=ROOT)
    params = yaml.safe_load(Path(params_file).read_text())
    params["data"].update(url=str(Path(archive).resolve()), md5=md5)
    (folder / "lab" / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh("git", "commit", "--quiet", "-am", "the sweep", cwd=folder / "lab")
    return params


def one_clone(folder):
    """The sweep in one clone, two training runs side by side; (wall, cpu) seconds."""
    path = folder / "one"
    sh("git", "clone", "--quiet", str(folder / "lab"), str(path), cwd=folder)
    wall, cpu = time.perf_counter(), cpu_seconds()
    sh("dvc", "repro", "carve", cwd=path)
    trains = [name for name in sh("dvc", "stage", "list", "--name-only", cwd=path).split() if name.startswith("train@")]
    done = subprocess.run(["xargs", "-P", "2", "-n", "1", "dvc", "repro", "-s"], cwd=path, env=ENV, text=True,
                          input="\n".join(reversed(trains)), capture_output=True)
    if done.returncode:
        sys.exit(f"one clone: training failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    sh("dvc", "repro", cwd=path)
    return time.perf_counter() - wall, cpu_seconds() - cpu


def worker(folder, origin, server, models, share, index, times):
    path = folder / f"worker{index}"
    start = time.perf_counter()
    sh("git", "clone", "--quiet", str(origin), str(path), cwd=folder)
    sh("dvc", "remote", "modify", "--local", "store", "keyfile", str(server.keyfile), cwd=path)
    settings = [argument for name in overrides(models, share) for argument in ("-S", name)]
    sh("dvc", "exp", "run", "--pull", "-n", f"share-{index}", *settings, cwd=path)
    sh("dvc", "exp", "push", "origin", f"share-{index}", cwd=path)
    sh("dvc", "push", "--run-cache", cwd=path)
    times[index] = time.perf_counter() - start


def workers(folder, models, count):
    """The sweep split between `count` worker clones and gathered by a reviewer: (wall, cpu, {part: wall}, exp show)."""
    origin = folder / "origin.git"
    with ssh_server(folder / "sshd") as server:
        sh("dvc", "remote", "add", "-d", "store", server.url, cwd=folder / "lab")
        sh("git", "commit", "--quiet", "-am", "the SSH remote", cwd=folder / "lab")
        sh("git", "clone", "--quiet", "--bare", str(folder / "lab"), str(origin), cwd=folder)
        split = shares(models, count)
        wall, cpu, times = time.perf_counter(), cpu_seconds(), {}
        threads = [threading.Thread(target=worker, args=(folder, origin, server, models, share, index, times))
                   for index, share in enumerate(split)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if len(times) != len(split):
            sys.exit("a worker failed (its error is above)")
        gather = time.perf_counter()
        reviewer = folder / "reviewer"
        sh("git", "clone", "--quiet", str(origin), str(reviewer), cwd=folder)
        sh("dvc", "remote", "modify", "--local", "store", "keyfile", str(server.keyfile), cwd=reviewer)
        sh("dvc", "exp", "pull", "origin", "-A", "--run-cache", cwd=reviewer)
        ran = sh("dvc", "exp", "run", "--pull", "-n", "sweep", cwd=reviewer)
        times["reviewer"] = time.perf_counter() - gather
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        retrained = [line for line in ran.splitlines() if line.startswith("Running stage 'train@")]
        show = sh("dvc", "exp", "show", "--no-pager", "--drop", ".*", "--keep", REVIEW, cwd=reviewer)
    return wall, cpu, times, split, retrained, show


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", required=True, help="the sweep's params.yaml (data.url and data.md5 are replaced)")
    parser.add_argument("--archive", required=True, help="a local CIFAR-10 binary archive")
    parser.add_argument("--md5", required=True, help="its md5")
    parser.add_argument("--workers", type=int, default=2, help="worker clones (default 2)")
    parser.add_argument("--first", choices=("one", "workers"), default="one", help="the side run first")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR (which must not exist) and keep it")
    args = parser.parse_args()
    if args.keep and Path(args.keep).exists():
        parser.error(f"--keep {args.keep}: exists already")
    with (nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory(prefix="sweep-bench-")) as scratch:
        folder = Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        models = lab(folder, args.params, args.archive, args.md5)["models"]
        results = {}
        for side in (("one", "workers") if args.first == "one" else ("workers", "one")):
            print(f"{time.strftime('%H:%M:%S')} {side} …", flush=True)
            results[side] = one_clone(folder) if side == "one" else workers(folder, models, args.workers)
        (one_wall, one_cpu), (wall, cpu, times, split, retrained, show) = results["one"], results["workers"]
        print(f"{'way':<44}{'wall s':>10}{'cpu s':>10}")
        print(f"{'one clone, two runs side by side':<44}{one_wall:10.0f}{one_cpu:10.0f}")
        print(f"{f'{len(split)} workers and the reviewer':<44}{wall:10.0f}{cpu:10.0f}")
        for index, share in enumerate(split):
            print(f"  worker {index} ({', '.join(share)}): {times[index]:.0f} s wall")
        print(f"  reviewer (exp pull, exp run of the whole sweep): {times['reviewer']:.0f} s wall; "
              f"train stages it ran: {len(retrained)}")
        print(f"one clone / workers: wall {one_wall / wall:.2f}, cpu {one_cpu / cpu:.2f}")
        same = [json.loads((folder / side / "metrics/headline.json").read_text()) for side in ("one", "reviewer")]
        print(f"the reviewer's metrics/headline.json equals the one clone's: {same[0] == same[1]}")
        print("the reviewer's dvc exp show:")
        print(show)


if __name__ == "__main__":
    main()
