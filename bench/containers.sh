#!/usr/bin/env bash
# Container start-up: onekube against podman with runc on this machine, in one run, the same
# busybox image for both; prints a Markdown section for bench/RESULTS.md. Needs root,
# hyperfine, skopeo, docker-registry and podman (apt-get).
# usage: sudo bench/containers.sh [path/to/onekube]   (default: a release build, made if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_binary "${1:-}"
bench_workdir okbench
RUNS="${RUNS:-30}"
serve_busybox
export ONEKUBE_DATA_DIR="$DATA"
API_PORT=$(free_port)
"$ONEKUBE" start --data-dir "$DATA" --bridge okbench0 --pod-cidr 10.254.0.0/20 --registry-mirror "http://127.0.0.1:$REGISTRY_PORT" --registry-mirror-only \
    --api-port "$API_PORT" --kubeconfig "$WORK/kubeconfig" >/dev/null
"$ONEKUBE" docker pull -q busybox >/dev/null
podman_busybox
PODMAN_RUN="${PODMAN[*]} run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/bench-busybox echo hello"

machine_line containers
echo
echo "onekube $("$ONEKUBE" --version) ($BUILD), $(hyperfine --version), $(podman --version) with $(runc --version | head -1)."
echo

hyperfine -N --runs "$RUNS" --warmup 3 --export-markdown "$WORK/run.md" --export-json "$WORK/run.json" \
    -n "onekube docker run --rm busybox echo hello" "$ONEKUBE docker run --rm busybox echo hello" \
    -n "podman --runtime runc run --rm … echo hello" "$PODMAN_RUN" >/dev/null
median() { python3 -c "import json,sys; r=json.load(open('$WORK/run.json'))['results']; print('%.1f' % (r[$1]['median']*1000))"; }
echo "### docker run --rm busybox echo hello (image present; goal ≤ 20 ms median)"
echo
cat "$WORK/run.md"
echo
echo "Medians: onekube $(median 0) ms, podman $(median 1) ms; podman / onekube = $(python3 -c "import json; r=json.load(open('$WORK/run.json'))['results']; print('%.1f' % (r[1]['median']/r[0]['median']))")×."
echo

# 100 detached containers, started one after the other.
START=$(date +%s.%N)
for _ in $(seq 100); do "$ONEKUBE" docker run -d busybox sleep 3600 >/dev/null; done
END=$(date +%s.%N)
PID=$(cat "$DATA/run/onekube.pid")
RSS=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
# The runtime helpers are the children of the daemon's zygote.
ZYGOTE=$(pgrep -P "$PID" -f "__onekube-runtime zygote" | head -1)
pss() { awk '/^Pss:/ {s+=$2} END {print s+0}' "$@" 2>/dev/null; }
HELPERS_PSS=$(pss $(for p in $(pgrep -P "$ZYGOTE"); do echo "/proc/$p/smaps_rollup"; done))
ZYGOTE_PSS=$(pss "/proc/$ZYGOTE/smaps_rollup")
RM_START=$(date +%s.%N)
"$ONEKUBE" docker rm -f $("$ONEKUBE" docker ps -aq) >/dev/null
RM_END=$(date +%s.%N)
echo "### 100 × docker run -d busybox sleep 3600 in a loop (goal ≤ 2 s total)"
echo
echo "| measure | value |"
echo "|:---|---:|"
printf '| total time for 100 starts | %.2f s |\n' "$(echo "$END - $START" | bc -l)"
printf '| daemon VmRSS with 100 running | %.1f MB |\n' "$(echo "$RSS/1024" | bc -l)"
printf '| the helpers zygote, PSS | %.1f MB |\n' "$(echo "$ZYGOTE_PSS/1024" | bc -l)"
printf '| the 100 runtime helpers (one per container), PSS summed | %.1f MB |\n' "$(echo "$HELPERS_PSS/1024" | bc -l)"
printf '| docker rm -f of all 100 | %.2f s |\n' "$(echo "$RM_END - $RM_START" | bc -l)"
echo
echo "Command: \`sudo bench/containers.sh\`"
