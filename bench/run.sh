#!/usr/bin/env bash
# Measures onekube against its peers on this machine, in one run, and prints a Markdown section
# for bench/RESULTS.md. Needs root, hyperfine, skopeo, docker-registry and podman (apt-get).
# usage: sudo bench/run.sh [path/to/onekube]   (default: a release build, made if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
ONEKUBE="${1:-}"
if [ -z "$ONEKUBE" ]; then
    swift build -c release --static-swift-stdlib --product onekube >/dev/null
    ONEKUBE="$(swift build -c release --static-swift-stdlib --show-bin-path)/onekube"
fi
WORK="$(mktemp -d /tmp/onekube-bench.XXXXXX)"
DATA="$WORK/data"
cleanup() {
    "$ONEKUBE" stop --data-dir "$DATA" >/dev/null 2>&1 || true
    [ -n "${REGISTRY_PID:-}" ] && kill "$REGISTRY_PID" 2>/dev/null || true
    [ -n "${PODMAN_PID:-}" ] && kill "$PODMAN_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
RUNS="${RUNS:-10}"

echo "## $(date -u +%Y-%m-%d) on $(uname -n): $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
echo
echo "onekube $("$ONEKUBE" --version) (release build), $(hyperfine --version), $(skopeo --version), $(podman --version)."
echo

# 1. start until the daemon answers
hyperfine --runs "$RUNS" --warmup 1 --export-markdown "$WORK/start.md" \
    --prepare "$ONEKUBE stop --data-dir $DATA >/dev/null 2>&1 || true" \
    -n "onekube start (until it answers)" "$ONEKUBE start --data-dir $DATA" >/dev/null
echo "### onekube start, until the Docker API answers (goal ≤ 0.3 s)"
echo
cat "$WORK/start.md"
echo

# 2. pull of a multi-layer image from a local registry vs skopeo copy of the same image
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $WORK/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$PORT}
YAML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.05; done
python3 bench/make-image.py "$WORK/layout" 4 16
skopeo copy -q --dest-tls-verify=false --preserve-digests "oci:$WORK/layout:latest" "docker://127.0.0.1:$PORT/bench/multi:latest"
IMAGE="127.0.0.1:$PORT/bench/multi:latest"
export ONEKUBE_DATA_DIR="$DATA"
"$ONEKUBE" start --data-dir "$DATA" >/dev/null
hyperfine --runs "$RUNS" --warmup 1 --export-markdown "$WORK/pull.md" \
    -n "onekube docker pull (download, verify, unpack)" \
    --prepare "$ONEKUBE docker rmi $IMAGE >/dev/null 2>&1 || true" "$ONEKUBE docker pull -q $IMAGE" \
    -n "skopeo copy to a local dir (download, verify)" \
    --prepare "rm -rf $WORK/skopeo-dest" "skopeo copy -q --src-tls-verify=false docker://$IMAGE dir:$WORK/skopeo-dest" >/dev/null
echo "### Pull of a 5-layer image (busybox + 4 × 16 MiB incompressible) from a local docker-registry"
echo
cat "$WORK/pull.md"
echo

# 3. idle memory: the daemon after start and one pull, vs podman's API service idle
"$ONEKUBE" stop --data-dir "$DATA" >/dev/null
"$ONEKUBE" start --data-dir "$DATA" >/dev/null
sleep 2
PID=$(cat "$DATA/run/onekube.pid")
ONEKUBE_RSS=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
podman --runtime runc system service --time=0 "unix://$WORK/podman.sock" >/dev/null 2>&1 &
PODMAN_PID=$!
for _ in $(seq 100); do [ -S "$WORK/podman.sock" ] && break; sleep 0.05; done
sleep 2
PODMAN_RSS=$(awk '/VmRSS/ {print $2}' "/proc/$PODMAN_PID/status")
echo "### Idle resident memory (VmRSS, 2 s after start)"
echo
echo "| process | RSS |"
echo "|:---|---:|"
printf '| onekube daemon (goal ≤ 30 MB) | %.1f MB |\n' "$(echo "$ONEKUBE_RSS/1024" | bc -l)"
printf '| podman system service | %.1f MB |\n' "$(echo "$PODMAN_RSS/1024" | bc -l)"
printf '| ratio onekube / podman | %.2f |\n' "$(echo "$ONEKUBE_RSS/$PODMAN_RSS" | bc -l)"
echo
echo "Command: \`sudo bench/run.sh\`"
