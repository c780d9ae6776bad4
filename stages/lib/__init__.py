"""The library behind the pipeline's stages: one module per concept.

Importing it asks TensorFlow for oneDNN's kernels (it must happen before `import tensorflow`).
TensorFlow turns them on by default only on some CPUs (those with AVX-512 VNNI, BF16 or AMX); on an
AVX2-only CPU its own kernels train this project's CNN with 2.1× the CPU time. Turned on here, every
machine gets the faster kernels by the project's choice rather than TensorFlow's guess per CPU; as
they change float rounding, `lib.training.deterministic` refuses to run without them."""

import os

ONEDNN = "TF_ENABLE_ONEDNN_OPTS"
os.environ.setdefault(ONEDNN, "1")
