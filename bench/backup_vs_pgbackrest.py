"""Backup benchmark: erpops backup against pgBackRest on the same PostgreSQL cluster, in the same run.

Interleaved A B A B rounds of: erpops to one site, erpops to two sites (one read, fan-out),
pgBackRest to one repository, pgBackRest to two repositories (two runs, as it needs); then restores
to read-write from a local site/repository. The same again against S3: one moto server on loopback
serving HTTPS (pgBackRest speaks only TLS to S3) holds a bucket for an erpops S3 site and one for a
pgBackRest S3 repository, so both restore from the same kind of store over the same link.
Prints the ratios and the disk's raw copy speed, the physical limit. Everything runs on loopback
and temp dirs; every step has a time-out.

Run: .venv/bin/python -m bench.backup_vs_pgbackrest [--scale 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backup.create import create_backup
from backup.restore import restore_postgres
from backup.settings import load_backup_settings
from backup.sites import make_sites
from opskit.pg import Cluster
from opskit.ports import free_port

STANZA = "bench"


def run(cmd: list[str], user: str | None = None, timeout: float = 600) -> str:
    full = ["runuser", "-u", user, "--", *cmd] if user else cmd
    done = subprocess.run(full, capture_output=True, text=True, timeout=timeout, check=False, cwd="/")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def timed(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def settle(data_dir: Path, timeout: float = 300) -> None:
    """Wait until the archiver has shipped every finished WAL segment (to the local and the S3 repositories).

    Each backup switches WAL; archive-push to S3 goes through moto, a Python server on the same two
    cores, so a measurement that starts while the previous step's WAL is still being archived would
    pay for it. Every timed step starts with the archiver idle.
    """
    status = data_dir / "pg_wal" / "archive_status"
    deadline = time.monotonic() + timeout
    while any(status.glob("*.ready")) and time.monotonic() < deadline:
        time.sleep(0.1)


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def raw_copy_speed(src: Path, scratch: Path) -> float:
    """MB/s of `cp -a` of the data directory plus sync: what the disk can do at best."""
    target = scratch / "rawcopy"
    seconds = timed(lambda: (run(["cp", "-a", str(src), str(target)]), os.sync()))
    size = dir_size(target)
    shutil.rmtree(target)
    return size / seconds / 1e6


def pgbackrest_conf(root: Path, cluster: Cluster, sockets: Path) -> Path:
    conf = root / "pgbackrest.conf"
    conf.write_text(
        "[global]\n"
        f"repo1-path={root / 'pgbr1'}\nrepo2-path={root / 'pgbr2'}\n"
        "repo1-retention-full=99\nrepo2-retention-full=99\n"
        "compress-type=zst\ncompress-level=3\nprocess-max=2\nstart-fast=y\n"
        f"log-path={root / 'pgbr-log'}\nlock-path={root / 'pgbr-lock'}\nspool-path={root / 'pgbr-spool'}\n"
        "log-level-console=warn\nlog-level-file=off\n"
        f"[{STANZA}]\npg1-path={cluster.data_dir}\npg1-port={cluster.port}\npg1-socket-path={sockets}\n"
    )
    for sub in ("pgbr1", "pgbr2", "pgbr-log", "pgbr-lock", "pgbr-spool"):
        (root / sub).mkdir()
        shutil.chown(root / sub, "postgres", "postgres")
    os.chmod(conf, 0o644)
    return conf


def moto_app() -> Any:
    """moto's S3 as a WSGI app (uvicorn --factory): `moto_server` runs werkzeug's dev server, which closes
    every connection without a TLS close_notify, and pgBackRest's TLS client fails on that."""
    from moto.server import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


class TlsS3:
    """moto's S3 in its own process, served over HTTPS (keep-alive) with a throw-away self-signed certificate."""

    def __init__(self, root: Path) -> None:
        self.dir = root / "s3-tls"
        self.dir.mkdir()
        self.cert, self.key = self.dir / "cert.pem", self.dir / "key.pem"
        run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                str(self.key),
                "-out",
                str(self.cert),
            ]
        )
        self.port = free_port()
        self.endpoint = f"https://127.0.0.1:{self.port}"
        self.log = (self.dir / "moto.log").open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.backup_vs_pgbackrest:moto_app",
                "--factory",
                "--interface",
                "wsgi",
                "--app-dir",
                str(Path(__file__).resolve().parent.parent),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--ssl-certfile",
                str(self.cert),
                "--ssl-keyfile",
                str(self.key),
                "--log-level",
                "warning",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.client = self._client()
        deadline = time.monotonic() + 30
        while True:
            try:
                self.client.list_buckets()
                break
            except Exception:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.2)

    def _client(self) -> Any:
        import boto3  # type: ignore[import-untyped]

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            verify=False,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )

    def bucket(self, name: str) -> str:
        self.client.create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()


def pgbackrest_s3_conf(root: Path, s3: TlsS3, bucket: str) -> Path:
    """A pgBackRest configuration whose only repository is the S3 bucket (so archive-get reads S3 too)."""
    conf = root / "pgbackrest-s3.conf"
    base = (root / "pgbackrest.conf").read_text().split("[global]\n", 1)[1]
    local = "".join(line + "\n" for line in base.splitlines() if not line.startswith(("repo1-", "repo2-")))
    conf.write_text(
        "[global]\n"
        f"repo1-type=s3\nrepo1-path=/pgbr\nrepo1-s3-bucket={bucket}\nrepo1-s3-endpoint=127.0.0.1\n"
        f"repo1-storage-host=127.0.0.1\nrepo1-storage-port={s3.port}\nrepo1-storage-verify-tls=n\n"
        "repo1-s3-uri-style=path\nrepo1-s3-region=us-east-1\nrepo1-s3-key=bench\nrepo1-s3-key-secret=bench\n"
        "repo1-retention-full=99\n" + local
    )
    os.chmod(conf, 0o644)
    return conf


def start_restored(root: Path, name: str, primary: Path, restore: Callable[[Cluster], object]) -> float:
    """Seconds from nothing to a read-write server: restore, start, recovery, promotion."""
    cluster = Cluster(root / name)
    try:
        settle(primary)
        began = time.perf_counter()
        restore(cluster)
        cluster.start(timeout=600)
        cluster.wait_ready(timeout=600)
        return time.perf_counter() - began
    finally:
        cluster.remove()


def main() -> None:
    import urllib3

    # moto serves HTTPS on loopback with a throw-away self-signed certificate: one warning per request otherwise
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20, help="pgbench scale (about 15 MB per unit)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--s3-concurrency", type=int, default=4, help="ranged GETs / part uploads in flight per object"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="erpops-bench-backup-"))
    os.chmod(root, 0o755)
    shutil.chown(root, "postgres", "postgres")
    sockets = root / "sockets"
    sockets.mkdir()
    shutil.chown(sockets, "postgres", "postgres")
    cluster = Cluster(root / "primary", socket_dir=sockets)
    s3 = TlsS3(root)
    try:
        cluster.initdb({"wal_level": "replica", "max_wal_senders": "6", "shared_buffers": "128MB"})
        push = "pgbackrest --config={} --stanza=" + STANZA + " archive-push %p"
        cluster.configure(
            {
                "archive_mode": "on",
                "archive_command": push.format(root / "pgbackrest.conf")
                + " && "
                + push.format(root / "pgbackrest-s3.conf"),
            }
        )
        cluster.start()
        conf = pgbackrest_conf(root, cluster, sockets)
        s3conf = pgbackrest_s3_conf(root, s3, s3.bucket("pgbackrest"))
        pgbr = ["pgbackrest", f"--config={conf}", f"--stanza={STANZA}"]
        pgbr_s3 = ["pgbackrest", f"--config={s3conf}", f"--stanza={STANZA}"]
        erp_bucket = s3.bucket("erpops")
        print(f"loading pgbench scale {args.scale} ...", flush=True)
        run([*cluster.client("pgbench"), "-i", "-q", "-s", str(args.scale), "postgres"], timeout=900)
        run(["psql", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "-c", "CHECKPOINT"])
        run([*pgbr, "stanza-create"], user="postgres")
        run([*pgbr_s3, "stanza-create"], user="postgres")
        db_mb = dir_size(cluster.data_dir) / 1e6
        disk = raw_copy_speed(cluster.data_dir, root)
        print(
            f"database directory {db_mb:.0f} MB; raw copy of the disk {disk:.0f} MB/s "
            f"(physical floor {db_mb / disk:.2f}s)",
            flush=True,
        )

        sites = {n: root / f"site{n}" for n in (1, 2)}
        s3_toml = root / "erpops-s3.toml"
        s3_toml.write_text(
            '[backup]\ncompression = "zstd"\n[[backup.sites]]\nname = "s3"\nkind = "s3"\n'
            f'endpoint_url = "{s3.endpoint}"\nbucket = "{erp_bucket}"\nprefix = "erp"\nverify_tls = false\n'
            f'access_key_id = "bench"\nsecret_access_key = "bench"\nconcurrency = {args.s3_concurrency}\n'
        )

        def erpops(n: int) -> float:
            toml = root / f"erpops{n}.toml"
            toml.write_text(
                '[backup]\ncompression = "zstd"\n'
                + "".join(f'[[backup.sites]]\nname = "s{i}"\npath = "{sites[i]}"\n' for i in range(1, n + 1))
            )
            return erpops_to(toml)

        def erpops_to(toml: Path) -> float:
            settings = load_backup_settings(toml, database_url=cluster.url())
            settle(cluster.data_dir)
            return timed(lambda: create_backup(settings, make_sites(settings)))

        def pgbackrest(n: int, cmd: list[str] = pgbr) -> float:
            total = 0.0
            for r in range(1, n + 1):
                settle(cluster.data_dir)
                total += timed(
                    lambda r=r: run([*cmd, "backup", "--type=full", f"--repo={r}"], user="postgres")
                )
            return total

        times: dict[str, list[float]] = {
            k: []
            for k in (
                "erpops 1 site",
                "erpops 2 sites",
                "erpops S3",
                "pgbackrest 1 repo",
                "pgbackrest 2 repos",
                "pgbackrest S3",
            )
        }
        erpops(1), pgbackrest(1)  # warm-up: caches, imports, first checkpoint
        for rnd in range(args.rounds):
            times["erpops 1 site"].append(erpops(1))
            times["pgbackrest 1 repo"].append(pgbackrest(1))
            times["erpops 2 sites"].append(erpops(2))
            times["pgbackrest 2 repos"].append(pgbackrest(2))
            times["erpops S3"].append(erpops_to(s3_toml))
            times["pgbackrest S3"].append(pgbackrest(1, pgbr_s3))
            print(f"round {rnd + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()), flush=True)

        local = load_backup_settings(root / "erpops1.toml", database_url=cluster.url())
        remote = load_backup_settings(s3_toml, database_url=cluster.url())
        restores: dict[str, list[float]] = {
            k: []
            for k in (
                "erpops restore (local)",
                "pgbackrest restore (local)",
                "erpops restore (S3)",
                "pgbackrest restore (S3)",
            )
        }

        def pgbr_restore(cmd: list[str]) -> Callable[[Cluster], object]:
            return lambda c: (
                c.data_dir.mkdir(mode=0o700),
                shutil.chown(c.data_dir, "postgres", "postgres"),
                run([*cmd, f"--pg1-path={c.data_dir}", "--repo=1", "restore"], user="postgres"),
            )

        for rnd in range(args.rounds):
            restores["erpops restore (local)"].append(
                start_restored(
                    root,
                    f"r-erpops-{rnd}",
                    cluster.data_dir,
                    lambda c: restore_postgres(local, make_sites(local), c.data_dir, owner=c.user),
                )
            )
            restores["pgbackrest restore (local)"].append(
                start_restored(root, f"r-pgbr-{rnd}", cluster.data_dir, pgbr_restore(pgbr))
            )
            restores["erpops restore (S3)"].append(
                start_restored(
                    root,
                    f"r-erpops-s3-{rnd}",
                    cluster.data_dir,
                    lambda c: restore_postgres(remote, make_sites(remote), c.data_dir, owner=c.user),
                )
            )
            restores["pgbackrest restore (S3)"].append(
                start_restored(root, f"r-pgbr-s3-{rnd}", cluster.data_dir, pgbr_restore(pgbr_s3))
            )
            print(
                f"restore round {rnd + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in restores.items()),
                flush=True,
            )

        print(
            f"stored: erpops site {dir_size(sites[1]) / 1e6:.0f} MB for {args.rounds + 3} backups, pgBackRest repo "
            f"{dir_size(root / 'pgbr1') / 1e6:.0f} MB for {2 * args.rounds + 1} backups",
            flush=True,
        )
        med = {k: statistics.median(v) for k, v in {**times, **restores}.items()}
        print("\nmedians: " + ", ".join(f"{k} {v:.2f}s" for k, v in med.items()))
        print(
            f"erpops two sites / one site          = {med['erpops 2 sites'] / med['erpops 1 site']:.2f}x  (target <= 1.15)"
        )
        print(
            f"pgBackRest two repos / one repo      = {med['pgbackrest 2 repos'] / med['pgbackrest 1 repo']:.2f}x"
        )
        print(
            f"erpops one site / pgBackRest one repo = {med['erpops 1 site'] / med['pgbackrest 1 repo']:.2f}x"
        )
        print(f"erpops S3 / pgBackRest S3 (backup)    = {med['erpops S3'] / med['pgbackrest S3']:.2f}x")
        print(
            f"restore erpops / pgBackRest (local)   = "
            f"{med['erpops restore (local)'] / med['pgbackrest restore (local)']:.2f}x  (target <= 0.8)"
        )
        print(
            f"restore erpops / pgBackRest (S3)      = "
            f"{med['erpops restore (S3)'] / med['pgbackrest restore (S3)']:.2f}x  (target <= 0.8)"
        )
        print(
            f"raw disk copy {disk:.0f} MB/s: the {db_mb:.0f} MB directory cannot be copied faster than {db_mb / disk:.2f}s"
        )
        # On a shared machine one slow round moves a median; the ratio of the two runs of the same round is steadier.
        paired = {
            "two sites / one site": ("erpops 2 sites", "erpops 1 site"),
            "restore local": ("erpops restore (local)", "pgbackrest restore (local)"),
            "restore S3": ("erpops restore (S3)", "pgbackrest restore (S3)"),
        }
        runs = {**times, **restores}
        print(
            "per-round ratios (median, range): "
            + "; ".join(
                f"{label} {statistics.median(r):.2f}x ({min(r):.2f}-{max(r):.2f})"
                for label, (a, b) in paired.items()
                for r in [[x / y for x, y in zip(runs[a], runs[b], strict=True)]]
            )
        )
    finally:
        cluster.stop("immediate")
        s3.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
