"""Index advice: read the workload, recommend indexes with measured benefit, report unused ones."""
