#!/usr/bin/env bash
# Makes sure what the test suite needs is on this machine: PostgreSQL server binaries (the suite
# starts throwaway clusters with initdb) and a server answering on 127.0.0.1:5432 (or the one named
# by ERPOPS_TEST_PG_URL). Installs Debian packages only when something is missing.
set -euo pipefail

need_pkgs=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || need_pkgs+=(postgresql postgresql-contrib)
command -v psql >/dev/null 2>&1 || need_pkgs+=(postgresql-client)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "ensure-services: installing ${need_pkgs[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
fi

if [ -n "${ERPOPS_TEST_PG_URL:-}" ]; then exit 0; fi
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -d postgres -qc "create database test" || true
  exit 0
fi

# Nothing answers: try the Debian cluster, then a throwaway cluster of our own.
if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql/*/main >/dev/null 2>&1; then
  ver=$(ls /etc/postgresql | sort -V | tail -n1)
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || true
  sleep 2
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  dir=/tmp/erpops-test-pg
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir" && chown postgres "$dir" 2>/dev/null || true
    runuser -u postgres -- "$pg_bin/initdb" -D "$dir" -U postgres -A trust >/dev/null
  fi
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir" -o "-c listen_addresses=127.0.0.1 -p 5432 -k /tmp" -l "$dir/log" -w start >/dev/null
fi
psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -d postgres -qc "create database test"
