"""What every stage shares: failures the user can fix, reported as one line."""

import os
import sys


class StageError(Exception):
    """A failure caused by an input (param, archive, download); printed as one line."""


def run(main):
    """Call `main()`; turn a StageError into one line on stderr and exit status 1."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's info lines, where it is used
    try:
        main()
    except StageError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
