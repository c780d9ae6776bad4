import os
import subprocess
import sys

from conftest import ROOT

LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795955594.354471    2201 port.cc:153] oneDNN custom operations are on.",
    "I0000 00:00:1795955594.355031    2201 cudart_stub.cc:31] Could not find cuda drivers on your machine",
    "E0000 00:00:1795955777.143043    3139 node_def_util.cc:682] NodeDef mentions attribute use_unbounded_threadpool",
    "E0000 00:00:1795956778.444129    8101 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with the "
    "appropriate compiler flags.",
    "E0000 00:00:1795956778.444129    8101 kernel.cc:12] a real failure",
    "error: params.yaml: models: has no model 'x'",
]
SCRIPT = f"""
import os, sys
sys.path.insert(0, {str(ROOT / "stages")!r})
from lib.stage import StageError, run

def main():
    for line in {LINES!r}:
        os.write(2, (line + "\\n").encode())
    print("partial", end="", file=sys.stderr)
    raise StageError("it failed")

run(main)
"""


def test_a_stage_keeps_its_errors_and_drops_tensorflow_start_up_lines():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": ""})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [LINES[-2], LINES[-1], "partialerror: it failed"]
