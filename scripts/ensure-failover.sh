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
