"""Locust load suites for the ERP with SLO gates that fail CI."""
