"""2D inpainting priors behind one protocol (see `base.InpaintingPrior`)."""
