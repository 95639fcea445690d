"""Encryption in transit: `erpops serve` speaks HTTPS with a certificate, and PostgreSQL URLs honour sslmode."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from opskit.ports import free_port
from tests.dbhelpers import pg_url

ERPOPS = [sys.executable, "-m", "erpops"]


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key, both as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "erpops test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def env_for(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "ERPOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'tls.sqlite'}", "PYTHONUNBUFFERED": "1"}


def test_serve_with_a_certificate_speaks_https_only(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    trusted = ssl.create_default_context(cafile=str(cert))
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen([*ERPOPS, "serve", "--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key)],
                              stdout=log, stderr=subprocess.STDOUT, env=env_for(tmp_path))
    try:
        deadline, answer = time.monotonic() + 60, None
        while answer is None and time.monotonic() < deadline and server.poll() is None:
            try:
                answer = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=trusted, timeout=2)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert answer is not None and answer.status_code == 200, (tmp_path / "server.log").read_text()
        assert f"https://127.0.0.1:{port}/api/v1/docs" in (tmp_path / "server.log").read_text()
        with pytest.raises(httpx.HTTPError):  # plain HTTP on the same port gets no answer
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        with pytest.raises(httpx.ConnectError):  # nor does a client that does not trust the certificate
            httpx.get(f"https://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        server.terminate()
        server.wait(30)
        log.close()


@pytest.mark.parametrize(("args", "says"), [
    (["--tls-cert", "{cert}"], "TLS needs both a certificate and its key"),
    (["--tls-cert", "{cert}", "--tls-key", "{cert}"], "cannot use the certificate"),
    (["--tls-cert", "{tmp}/missing.pem", "--tls-key", "{key}"], "cannot use the certificate"),
])
def test_a_certificate_without_a_usable_key_is_a_usage_error(tmp_path: Path, args: list[str], says: str) -> None:
    cert, key = self_signed(tmp_path)
    argv = [a.format(cert=cert, key=key, tmp=tmp_path) for a in args]
    done = subprocess.run([*ERPOPS, "serve", "--port", str(free_port()), *argv], capture_output=True, text=True,
                          env=env_for(tmp_path), timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and says in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "tls.sqlite").exists()  # refused before the database was touched


def test_postgresql_urls_honour_sslmode(tmp_path: Path) -> None:
    url = pg_url()
    if url is None:
        pytest.fail("this test needs the PostgreSQL the suite runs against")
    sep = "&" if "?" in url else "?"
    plain = subprocess.run([*ERPOPS, "db", "current"], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "ERPOPS_DATABASE_URL": f"{url}{sep}sslmode=disable"})
    assert plain.returncode == 0, plain.stderr
    required = subprocess.run([*ERPOPS, "db", "current"], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "ERPOPS_DATABASE_URL": f"{url}{sep}sslmode=require"})
    # the test server has no TLS: libpq refuses rather than fall back to plain text
    assert required.returncode == 4 and "SSL" in required.stderr and required.stderr.count("\n") == 1
