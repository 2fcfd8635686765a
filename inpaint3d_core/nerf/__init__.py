"""The NeRF: hash-grid field, samplers (nerfacc on CUDA, pure torch elsewhere), renderer, model I/O."""
