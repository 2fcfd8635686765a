"""Stage configs, one module per stage, importable without torch (the CLI reads them for its options)."""
