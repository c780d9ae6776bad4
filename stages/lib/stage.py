"""What every stage shares: failures the user can fix, reported as one line, and a stderr free of
TensorFlow's start-up chatter."""

import os
import re
import sys
import threading
from contextlib import contextmanager, nullcontext

# What TensorFlow's C++ core prints on every start on a CPU machine, below any log-level setting:
# info and warning lines, the notice that precedes them, and two known harmless errors.
NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IW]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\]"
    r"|E\d{4} [\d:.]+ +\d+ (node_def_util\.cc:\d+\] NodeDef mentions attribute"
    r"|cuda_platform\.cc:\d+\] failed call to cuInit)"
    r"|To enable the following instructions: .* rebuild TensorFlow)")


class StageError(Exception):
    """A failure caused by an input (param, archive, download); printed as one line."""


def forward(source, target):
    """Copy lines from file descriptor `source` to `target`, leaving out NOISE."""
    with os.fdopen(source, "rb") as lines, os.fdopen(target, "wb", buffering=0) as out:
        for line in lines:
            if not NOISE.match(line.decode("utf-8", "replace")):
                out.write(line)


@contextmanager
def quiet_tensorflow():
    """Route file descriptor 2 through a filter that drops TensorFlow's start-up lines."""
    sys.stderr.flush()
    read, write = os.pipe()
    saved = os.dup(2)
    os.dup2(write, 2)
    os.close(write)
    reader = threading.Thread(target=forward, args=(read, os.dup(saved)), daemon=True)
    reader.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        reader.join(timeout=5)


def run(main, tensorflow=True):
    """Call `main()`; turn a StageError into one line on stderr and exit status 1. A stage that may
    start `tensorflow` gets its stderr filtered (a stage that never does keeps it as it is, a
    terminal's progress bars included)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's info lines, where it is used
    status = 0
    with quiet_tensorflow() if tensorflow else nullcontext():
        try:
            main()
        except StageError as error:
            print(f"error: {error}", file=sys.stderr)
            status = 1
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            status = 130
    sys.exit(status)
