#!/usr/bin/env bash
# Container start-up: onekube against podman with runc on this machine, in one run, the same
# busybox image for both; prints a Markdown section for bench/RESULTS.md. Needs root,
# hyperfine, skopeo, docker-registry and podman (apt-get).
# usage: sudo bench/containers.sh [path/to/onekube]   (default: a release build, made if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
ONEKUBE="${1:-}"
if [ -z "$ONEKUBE" ]; then
    swift build -c release --static-swift-stdlib --product onekube >/dev/null
    ONEKUBE="$(swift build -c release --static-swift-stdlib --show-bin-path)/onekube"
fi
# Lower case: podman names the image it pulls from an OCI layout after the layout's path (and wants a short runroot).
WORK="/tmp/okbench-$$"
mkdir -p "$WORK"
DATA="$WORK/data"
PODMAN=(podman --root "$WORK/podman-root" --runroot "$WORK/podman-run" --runtime runc)
cleanup() {
    "$ONEKUBE" stop --data-dir "$DATA" --timeout 30 >/dev/null 2>&1 || true
    [ -n "${REGISTRY_PID:-}" ] && kill "$REGISTRY_PID" 2>/dev/null || true
    "${PODMAN[@]}" rm -af >/dev/null 2>&1 || true
    "${PODMAN[@]}" system reset -f >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
RUNS="${RUNS:-30}"

# The image: busybox-static from Debian, served by a local registry (onekube's Hub mirror) and
# loaded into podman from the same OCI layout.
python3 bench/make-busybox.py "$WORK/layout"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $WORK/registry}}
http: {addr: 127.0.0.1:$PORT}
YAML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.05; done
skopeo copy -q --dest-tls-verify=false "oci:$WORK/layout:latest" "docker://127.0.0.1:$PORT/library/busybox:latest"
export ONEKUBE_DATA_DIR="$DATA"
API_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ONEKUBE" start --data-dir "$DATA" --bridge okbench0 --pod-cidr 10.254.0.0/20 --registry-mirror "http://127.0.0.1:$PORT" \
    --api-port "$API_PORT" --kubeconfig "$WORK/kubeconfig" >/dev/null
"$ONEKUBE" docker pull -q busybox >/dev/null
"${PODMAN[@]}" pull -q "oci:$WORK/layout:latest" >/dev/null
"${PODMAN[@]}" tag "localhost$WORK/layout:latest" localhost/bench-busybox:latest
PODMAN_RUN="${PODMAN[*]} run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/bench-busybox echo hello"

echo "## $(date -u +%Y-%m-%d) containers on $(uname -n): $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), cgroup $( [ -f /sys/fs/cgroup/cgroup.controllers ] && echo v2 || echo v1/hybrid)"
echo
echo "onekube $("$ONEKUBE" --version) (release build), $(hyperfine --version), $(podman --version) with $(runc --version | head -1)."
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
