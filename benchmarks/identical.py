"""Are two runs' outputs the same, byte for byte? For a refactoring: run the pipeline in two clones
(before and after, same params, same machine), then compare every output of every stage as their
dvc.lock files record it (md5 of each file; of each file inside an output folder):

    python benchmarks/identical.py RUN_BEFORE RUN_AFTER [--expect PATH ...]

Prints each output that differs (and, inside a folder, the files that do), each output only one run
has, and the count of the identical ones. Exit status 1 if anything differs that --expect does not
name (a path, or a folder holding it), so a refactoring states the outputs it meant to change.
"""

import argparse
import hashlib
import sys
from pathlib import Path

import yaml


def outputs(run):
    """{path: md5} of every stage output a run's dvc.lock records."""
    lock = yaml.safe_load((Path(run) / "dvc.lock").read_text())
    return {out["path"]: out["md5"] for stage in lock["stages"].values() for out in stage.get("outs", [])}


def files(folder):
    """{path inside `folder`: md5} of every file under it."""
    return {path.relative_to(folder).as_posix(): hashlib.md5(path.read_bytes()).hexdigest()
            for path in sorted(Path(folder).rglob("*")) if path.is_file()}


def differences(before, after, path):
    """The lines that say how output `path` differs between the runs."""
    a, b = Path(before) / path, Path(after) / path
    if not (a.is_dir() and b.is_dir()):
        return [f"differs: {path}"]
    fa, fb = files(a), files(b)
    return ([f"differs: {path}/{name}" for name in sorted(fa.keys() & fb.keys()) if fa[name] != fb[name]]
            + [f"only before: {path}/{name}" for name in sorted(fa.keys() - fb.keys())]
            + [f"only after: {path}/{name}" for name in sorted(fb.keys() - fa.keys())])


def expected(line, allowed):
    path = line.split(": ", 1)[1]
    return any(path == a or path.startswith(a.rstrip("/") + "/") for a in allowed)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", help="a run's folder (a DVC project after `dvc repro`)")
    parser.add_argument("after", help="the other run's folder")
    parser.add_argument("--expect", nargs="*", default=[], help="outputs meant to change (paths or folders)")
    args = parser.parse_args()
    old, new = outputs(args.before), outputs(args.after)
    lines = [f"only before: {path}" for path in sorted(old.keys() - new.keys())]
    lines += [f"only after: {path}" for path in sorted(new.keys() - old.keys())]
    same = sorted(path for path in old.keys() & new.keys() if old[path] == new[path])
    for path in sorted(old.keys() & new.keys()):
        if old[path] != new[path]:
            lines += differences(args.before, args.after, path)
    for line in lines:
        print(line + ("  (expected)" if expected(line, args.expect) else ""))
    unexpected = [line for line in lines if not expected(line, args.expect)]
    print(f"{len(same)} of {len(old.keys() | new.keys())} outputs identical; "
          f"{len(lines) - len(unexpected)} expected and {len(unexpected)} unexpected differences")
    sys.exit(1 if unexpected else 0)


if __name__ == "__main__":
    main()
