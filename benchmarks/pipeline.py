"""The default pipeline, an old revision against a new one, stage by stage interleaved in one run.

Clones both revisions of this repository into a scratch folder, points both at the same CIFAR-10
archive (a local mirror: the download is excluded from the figures), fetches it in each, then
runs every other stage with `dvc repro -s STAGE`, alternating old and new stage by stage
(old carve, new carve, old train@dummy-0, new train@dummy-0, old train@benchmark-0, …) so the machine's noise hits both
alike; a stage only one revision has runs on its side alone, in its place (e.g. the replay and trace
stages against a revision before them: `--old af0327c` shows what training dynamics add). For each stage it prints wall time and CPU time (the dvc process and everything it ran),
then the totals, their ratio (also over the stages both revisions have) and each training run's test
accuracy, epochs run (early stopping decides them) and time per epoch.

    python benchmarks/pipeline.py --old 1f392df --archive ../shared/cifar10/cifar-10-binary.tar.gz \\
        --md5 40eb903e36b61c6442a61a8bdb82f3d0            # the default pipeline: 40 minutes on a 2-core AVX2 CPU

`--set train.max_epochs=3` (repeatable) changes a param in both clones: a shorter proxy whose
training time scales with the epochs run (the default runs about 30 epochs per model).
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
UNTIMED = ("download",)


def sh(*command, cwd):
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout


def clone(revision, into, archive, md5, settings):
    sh("git", "clone", "--quiet", str(ROOT), str(into), cwd=ROOT)
    sh("git", "checkout", "--quiet", revision, cwd=into)
    params = yaml.safe_load((into / "params.yaml").read_text())
    params["data"].update(url=str(Path(archive).resolve()), md5=md5)
    for key, value in settings:
        *path, last = key.split(".")
        node = params
        for part in path:
            node = node[part]
        node[last] = yaml.safe_load(value)
    (into / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return [name for name in sh("dvc", "stage", "list", "--name-only", cwd=into).split()]


def timed(stage, cwd):
    """(wall, cpu) seconds of `dvc repro -s stage` and everything it ran."""
    before, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run(["dvc", "repro", "-s", stage], cwd=cwd, capture_output=True, text=True)
    wall, after = time.perf_counter() - wall, resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{cwd.name}: dvc repro -s {stage} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def trained(cwd):
    """{train stage: its metrics} of every run trained here."""
    folder = cwd / "metrics" / "train"
    return {f"train@{path.parent.relative_to(folder)}-{path.stem}": json.loads(path.read_text())
            for path in sorted(folder.rglob("*.json"))}


def run_line(way, runs, times):
    """Each run's test accuracy, epochs and train-stage time per epoch (early stopping decides the epochs)."""
    return f"{way}: " + ", ".join(
        f"{stage} accuracy {m['test_accuracy']:.4f}, {m['epochs_run']} epochs, "
        f"{times[stage][0] / m['epochs_run']:.1f} s wall and {times[stage][1] / m['epochs_run']:.1f} s cpu per epoch"
        for stage, m in runs.items() if stage in times and m.get("epochs_run"))


def total(times, stages=None):
    """(wall, cpu) summed over `stages` (default: all) of {stage: (wall, cpu)}."""
    picked = [seconds for stage, seconds in times.items() if stages is None or stage in stages]
    return sum(wall for wall, _ in picked), sum(cpu for _, cpu in picked)


def output_sizes(cwd):
    """{output path: bytes} of every stage output dvc.lock records."""
    lock = yaml.safe_load((cwd / "dvc.lock").read_text())
    return {out["path"]: out.get("size", 0) for stage in lock["stages"].values() for out in stage.get("outs", [])}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", required=True, help="git revision of the old way")
    parser.add_argument("--new", default="HEAD", help="git revision of the new way (default HEAD)")
    parser.add_argument("--archive", required=True, help="a local CIFAR-10 binary archive")
    parser.add_argument("--md5", required=True, help="its md5")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a param changed in both clones, e.g. train.max_epochs=3")
    parser.add_argument("--keep", metavar="DIR", help="clone into DIR (which must not exist) and keep both clones, "
                                                       "e.g. to open the new run's explorer")
    args = parser.parse_args()
    settings = [item.split("=", 1) for item in args.set]
    if any(len(item) != 2 for item in settings):
        parser.error("--set takes KEY=VALUE")

    if args.keep and Path(args.keep).exists():
        parser.error(f"--keep {args.keep}: exists already")
    with (nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory(prefix="pipeline-bench-")) as scratch:
        ways = {"old": Path(scratch) / "old", "new": Path(scratch) / "new"}
        stages = {way: clone(getattr(args, way), path, args.archive, args.md5, settings) for way, path in ways.items()}
        for way, path in ways.items():
            for stage in UNTIMED:
                timed(stage, path)
        times = {way: {} for way in ways}  # {way: {stage: (wall, cpu)}}
        print(f"{'stage':<28}{'old wall':>10}{'old cpu':>10}{'new wall':>10}{'new cpu':>10}", flush=True)
        stages = {way: [name for name in names if name not in UNTIMED] for way, names in stages.items()}
        for name in dict.fromkeys(stages["new"] + stages["old"]):
            row = {way: timed(name, path) for way, path in ways.items() if name in stages[way]}
            for way, seconds in row.items():
                times[way][name] = seconds
            cells = "".join(f"{row[w][0]:10.1f}{row[w][1]:10.1f}" if w in row else f"{'—':>10}{'—':>10}" for w in ways)
            print(f"{name:<28}{cells}", flush=True)
        old, new = (total(times[way]) for way in ways)
        print(f"{'total (download excluded)':<28}{old[0]:10.1f}{old[1]:10.1f}{new[0]:10.1f}{new[1]:10.1f}")
        print(f"old/new ratio: wall {old[0] / new[0]:.2f}, cpu {old[1] / new[1]:.2f}"
              f"; new − old: wall {new[0] / old[0] - 1:+.1%}, cpu {new[1] / old[1] - 1:+.1%}")
        both = times["old"].keys() & times["new"].keys()
        if both != times["old"].keys() | times["new"].keys():
            old, new = (total(times[way], both) for way in ways)
            print(f"old/new ratio over the stages both ran: wall {old[0] / new[0]:.2f}, cpu {old[1] / new[1]:.2f}")
        for way, path in ways.items():
            print(run_line(way, trained(path), times[way]))
        sizes = {way: output_sizes(path) for way, path in ways.items()}
        for way, other in (("new", "old"), ("old", "new")):
            only = {out: size for out, size in sizes[way].items() if out not in sizes[other]}
            if only:
                print(f"outputs only {way} has ({sum(only.values()) / 1e6:.1f} MB in all): "
                      + ", ".join(f"{out} {size / 1e6:.2f} MB" for out, size in only.items()))


if __name__ == "__main__":
    main()
