"""A runbook for every alert, rendered in the terminal."""
