#!/usr/bin/env bash
# What the backup tests and benchmark need: PostgreSQL server binaries (pg_basebackup, pg_receivewal,
# pg_amcheck, pg_waldump), zstd and lz4 to unpack server-compressed base backups, GNU tar, and
# pgBackRest and openssl (a throw-away certificate for the HTTPS S3 server pgBackRest needs) for
# bench/backup_vs_pgbackrest.py. Installs Debian packages only when something is missing.
set -euo pipefail

need=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
for tool in pg_basebackup pg_receivewal pg_amcheck pg_waldump pg_dump pg_restore initdb; do
  [ -n "$pg_bin" ] && [ -x "$pg_bin/$tool" ] || { need+=(postgresql postgresql-contrib); break; }
done
command -v zstd >/dev/null 2>&1 || need+=(zstd)
command -v lz4 >/dev/null 2>&1 || need+=(lz4)
command -v tar >/dev/null 2>&1 || need+=(tar)
command -v pgbackrest >/dev/null 2>&1 || need+=(pgbackrest)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
id postgres >/dev/null 2>&1 || need+=(postgresql)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "ensure-backup: installing ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
