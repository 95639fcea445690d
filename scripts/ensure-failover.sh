#!/usr/bin/env bash
# What the failover tests need: PostgreSQL server binaries with pg_basebackup and pg_rewind (the lab
# starts its own primary + synchronous standby on loopback as the `postgres` OS user). Installs
# Debian packages only when something is missing, so it is quick on a prepared machine.
set -euo pipefail

need_pkgs=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
for tool in initdb postgres pg_basebackup pg_rewind; do
  [ -n "$pg_bin" ] && [ -x "$pg_bin/$tool" ] || { need_pkgs+=(postgresql); break; }
done
id postgres >/dev/null 2>&1 || need_pkgs+=(postgresql)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "ensure-failover: installing ${need_pkgs[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# The patroni engine: Patroni and etcd from Debian (patroni drives the lab's PostgreSQL binaries).
patroni_pkgs=()
[ -x /usr/bin/etcd ] || patroni_pkgs+=(etcd-server)
[ -x /usr/bin/patroni ] || patroni_pkgs+=(patroni)
if [ ${#patroni_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "ensure-failover: installing ${patroni_pkgs[*]}" >&2
  $SUDO apt-get update -qq
  # No service of their own: the lab starts etcd and Patroni on loopback and stops them by PID.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${patroni_pkgs[@]}" >/dev/null
fi

# The pg_auto_failover engine: pg_autoctl and the monitor extension for the server's major version.
if [ ! -x /usr/bin/pg_autoctl ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  major=$(basename "$(dirname "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)")")
  echo "ensure-failover: installing postgresql-$major-auto-failover" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "postgresql-$major-auto-failover" >/dev/null
fi

# The isolate fault: nftables drops a lab member's loopback ports (one table per cut, deleted by name).
if ! command -v nft >/dev/null 2>&1 && [ ! -x /usr/sbin/nft ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "ensure-failover: installing nftables" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nftables >/dev/null
fi
