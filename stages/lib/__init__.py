"""The library behind the pipeline's stages: one module per concept.

Importing it asks TensorFlow for oneDNN's kernels (it must happen before `import tensorflow`).
TensorFlow turns them on by default only on some CPUs (those with AVX-512 VNNI, BF16 or AMX); on an
AVX2-only CPU its own kernels train this project's CNN about 2.4× slower. With oneDNN everywhere
every machine computes the same way; `lib.training.deterministic` refuses to run without it."""

import os

ONEDNN = "TF_ENABLE_ONEDNN_OPTS"
os.environ.setdefault(ONEDNN, "1")
