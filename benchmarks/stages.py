"""Stages of two kept pipeline clones timed again, interleaved: each stage forced in the old clone,
then in the new, `--repeat` times (old, new, old, new, …), with the median wall and CPU time of each
side. The clones are the ones `benchmarks/pipeline.py --keep DIR` leaves (DIR/old and DIR/new),
brought up to date first (`dvc repro` in each); a stage only one side has runs on that side alone.

    python benchmarks/stages.py --keep /work/bench --repeat 3 \\
        --stages ablate@dummy-0,ablate@benchmark-0,visualize@dummy-0,attribute@dummy-0,score,tally

Use it where only some stages changed: the others (training above all) cost both sides the same,
and the first run's figures for them stand.
"""

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def forced(stage, cwd):
    """(wall, cpu) seconds of `dvc repro -s -f stage` and everything it ran."""
    before, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run(["dvc", "repro", "-s", "-f", stage], cwd=cwd, capture_output=True, text=True)
    wall, after = time.perf_counter() - wall, resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{cwd.name}: dvc repro -s -f {stage} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def stage_names(cwd):
    return set(subprocess.run(["dvc", "stage", "list", "--name-only"], cwd=cwd, check=True, capture_output=True,
                              text=True).stdout.split())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", required=True, help="the folder holding the clones old/ and new/")
    parser.add_argument("--stages", required=True, help="comma-separated stage names")
    parser.add_argument("--repeat", type=int, default=3, help="times each stage runs on each side (default 3)")
    args = parser.parse_args()
    ways = {way: Path(args.keep) / way for way in ("old", "new")}
    known = {way: stage_names(path) for way, path in ways.items()}
    print(f"{'stage':<24}{'old wall':>10}{'old cpu':>10}{'new wall':>10}{'new cpu':>10}   (medians of {args.repeat})",
          flush=True)
    sums = {way: [0.0, 0.0] for way in ways}
    for stage in args.stages.split(","):
        runs = {way: [] for way in ways if stage in known[way]}
        for _ in range(args.repeat):
            for way in runs:
                runs[way].append(forced(stage, ways[way]))
        cells = ""
        for way in ways:
            if way not in runs:
                cells += f"{'—':>10}{'—':>10}"
                continue
            wall, cpu = (statistics.median(column) for column in zip(*runs[way]))
            sums[way][0] += wall
            sums[way][1] += cpu
            cells += f"{wall:10.1f}{cpu:10.1f}"
        print(f"{stage:<24}{cells}", flush=True)
    (old_wall, old_cpu), (new_wall, new_cpu) = sums["old"], sums["new"]
    print(f"{'total':<24}{old_wall:10.1f}{old_cpu:10.1f}{new_wall:10.1f}{new_cpu:10.1f}")
    print(f"new − old: wall {new_wall - old_wall:+.1f} s, cpu {new_cpu - old_cpu:+.1f} s")


if __name__ == "__main__":
    main()
