"""Failover drills under live ERP load that measure RTO and RPO.

    lab.py, patroni_lab.py, autofailover_lab.py   loopback clusters, every process stopped by PID
    engines/ (manual, patroni, pg_auto_failover, fake)   one HaEngine interface, `build_engine` by name
    writer.py     the built-in load: client threads logging every attempt (acked / error / in doubt)
    drill.py      fault -> recovery -> RPO row by row -> split brain -> rejoin -> erpops check -> verdict
    timeline.py   marks with reasons, client-side points, medians and p95
    report.py     JSON and Markdown reports, RTO/RPO gauges
"""
