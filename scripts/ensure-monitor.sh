#!/usr/bin/env bash
# Makes sure the monitor's real-ecosystem tests have their tools: `promtool` (Debian `prometheus`)
# and `prometheus-alertmanager`. The packages' daemons are never left running: the tests start
# their own Prometheus/Alertmanager on 127.0.0.1 and random ports.
set -euo pipefail

need_pkgs=()
command -v promtool >/dev/null 2>&1 || need_pkgs+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need_pkgs+=(prometheus-alertmanager)
[ ${#need_pkgs[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "ensure-monitor: installing ${need_pkgs[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -qq --no-install-recommends \
  "${need_pkgs[@]}" >/dev/null
# The package scripts may start the daemons on 0.0.0.0: stop them, our tests start their own.
for svc in prometheus prometheus-alertmanager prometheus-node-exporter; do
  if [ -x "/etc/init.d/$svc" ]; then $SUDO "/etc/init.d/$svc" stop >/dev/null 2>&1 || true; fi
done
