"""Service layer: each function owns one unit of work; the API and the CLI both call these."""
