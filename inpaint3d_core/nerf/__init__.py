"""The NeRF: hash-grid field, samplers (nerfacc on CUDA, pure torch elsewhere), renderer, and the
trained field with its store I/O."""
