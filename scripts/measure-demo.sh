#!/usr/bin/env bash
# Seconds from `make demo` on a fresh clone (its own venv, no package cache) to the API answering /healthz.
# Usage: scripts/measure-demo.sh [SOURCE_REPO] [CLONE_DIR]; bounded to 600 s, and the demo is stopped after.
set -u
SRC=${1:-$(git rev-parse --show-toplevel)}
DEST=${2:-/tmp/erpops-democlone}
rm -rf "$DEST"
git clone -q "$SRC" "$DEST"
cd "$DEST" || exit 1
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export ERPOPS_API__PORT=$PORT UV_NO_CACHE=${UV_NO_CACHE:-1} PIP_NO_CACHE_DIR=${PIP_NO_CACHE_DIR:-1}
unset ERPOPS_DATABASE_URL ERPOPS_CONFIG PYTHONPATH
start=$(date +%s.%N)
setsid make demo > demo.log 2>&1 &
pid=$!
trap 'kill -TERM -- -$pid 2>/dev/null; sleep 5; kill -KILL -- -$pid 2>/dev/null' EXIT
answered=0
for _ in $(seq 1 1200); do
  if curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz"; then answered=1; break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.5
done
end=$(date +%s.%N)
installed=$(python3 -c "import os; print(round(os.path.getmtime('.venv/.installed-runtime') - $start, 1))" 2>/dev/null)
seed=$(grep -o 'seeding days.*' demo.log | grep -o '[0-9]:[0-9][0-9]:[0-9][0-9]' | tail -1)
echo "api_answered=$answered seconds=$(python3 -c "print(round($end - $start, 1))") install_s=$installed" \
     "seed=$seed load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
ls .venv/lib/python3*/site-packages | grep -q -i -E '^(mypy|moto|hypothesis)' && echo "dev extras installed" \
  || echo "no dev extras installed"
[ "$answered" = 1 ]
