"""Move data older than the retention window out of production, verified and resumable."""
