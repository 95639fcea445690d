"""Metrics, DB health probes, threshold alerting and Alertmanager-compatible webhooks."""
