"""Host metrics sampled with psutil: CPU, memory, disk space and IO, network, file descriptors."""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from monitor.tsdb import Sample


def _s(name: str, value: float, **labels: str) -> Sample:
    return Sample({"__name__": name, **labels}, float(value))


def sample_host(paths: list[Path] | None = None) -> list[Sample]:
    """One sample of the host (call at most once a second: CPU usage is measured since the last call)."""
    out = [
        _s("erpops_host_cpu_usage_ratio", psutil.cpu_percent(interval=None) / 100),
        _s("erpops_host_cpu_count", psutil.cpu_count() or 1),
        _s("erpops_host_load1", os.getloadavg()[0]),
    ]
    mem = psutil.virtual_memory()
    out += [
        _s("erpops_host_memory_total_bytes", mem.total),
        _s("erpops_host_memory_available_bytes", mem.available),
        _s("erpops_host_memory_available_ratio", mem.available / mem.total),
    ]
    mounts = {str(p.resolve()) for p in (paths or [])} | {"/"}
    for mount in sorted(mounts):
        if not Path(mount).exists():
            continue
        usage = psutil.disk_usage(mount)
        out += [
            _s("erpops_host_disk_free_bytes", usage.free, mountpoint=mount),
            _s("erpops_host_disk_size_bytes", usage.total, mountpoint=mount),
            _s("erpops_host_disk_free_ratio", usage.free / usage.total if usage.total else 1.0, mountpoint=mount),
        ]
    for device, io in (psutil.disk_io_counters(perdisk=True) or {}).items():
        if device.startswith(("loop", "ram")):
            continue
        out += [
            _s("erpops_host_disk_io_ops_total", io.read_count + io.write_count, device=device),
            _s("erpops_host_disk_io_busy_seconds_total", (io.read_time + io.write_time) / 1000, device=device),
            _s("erpops_host_disk_read_bytes_total", io.read_bytes, device=device),
            _s("erpops_host_disk_written_bytes_total", io.write_bytes, device=device),
        ]
    net = psutil.net_io_counters()
    out += [
        _s("erpops_host_network_receive_bytes_total", net.bytes_recv),
        _s("erpops_host_network_transmit_bytes_total", net.bytes_sent),
    ]
    out += _file_descriptors()
    return out


def _file_descriptors() -> list[Sample]:
    out = [_s("erpops_process_open_fds", psutil.Process().num_fds())]
    file_nr = Path("/proc/sys/fs/file-nr")
    if file_nr.exists():
        allocated, _, maximum = (int(x) for x in file_nr.read_text().split())
        out += [
            _s("erpops_host_fds_allocated", allocated),
            _s("erpops_host_fds_max", maximum),
            _s("erpops_host_fds_used_ratio", allocated / maximum if maximum else 0.0),
        ]
    return out
