"""The library behind the pipeline's stages: one module per concept."""
