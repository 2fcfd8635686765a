"""One module per CLI command group; `flows.cli` wires them into the `inpaint3d` app explicitly."""
