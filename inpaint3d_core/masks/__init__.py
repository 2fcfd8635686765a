"""Per-view masks of the region to generate: geometric, imported, and propagated through 3D."""
