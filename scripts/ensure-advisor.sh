#!/usr/bin/env bash
# Makes sure the advisor's tests have hypopg (Debian `postgresql-<major>-hypopg`, for the major version of
# the installed server) and pg_stat_statements (postgresql-contrib). The tests run CREATE EXTENSION in their
# own throw-away databases and clusters.
set -euo pipefail

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
[ -n "$pg_bin" ] || exit 0  # ensure-postgres.sh installs the server first
major=$(basename "$(dirname "$pg_bin")")
lib="/usr/lib/postgresql/$major/lib"

need_pkgs=()
[ -e "$lib/hypopg.so" ] || need_pkgs+=("postgresql-$major-hypopg")
[ -e "$lib/pg_stat_statements.so" ] || need_pkgs+=(postgresql-contrib)
[ ${#need_pkgs[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "ensure-advisor: installing ${need_pkgs[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
