"""Failover drills under live ERP load that measure RTO and RPO."""
