#!/usr/bin/env bash
# docker build of the offline kubia (Resources/examples/kubia-offline: FROM scratch + busybox, a
# RUN, an ADD): onekube against `podman build` (runc) of the same Dockerfile and context, in one
# run, cold (--no-cache) and fully cached; prints a Markdown section for bench/RESULTS.md. Needs
# root, hyperfine and podman (apt-get); no registry.
# usage: sudo bench/build.sh [path/to/onekube]   (default: a release build, made if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_binary "${1:-}"
bench_workdir okbuild
RUNS="${RUNS:-20}"
export ONEKUBE_DATA_DIR="$DATA"
API_PORT=$(free_port)
"$ONEKUBE" start --data-dir "$DATA" --bridge okbuild0 --pod-cidr 10.254.16.0/20 --registry-mirror-only \
    --api-port "$API_PORT" --kubeconfig "$WORK/kubeconfig" >/dev/null
CONTEXT="$WORK/kubia-offline"
mkdir -p "$CONTEXT"
cp Resources/examples/kubia-offline/{Dockerfile,app.sh,.dockerignore} "$CONTEXT/"
cp /bin/busybox "$CONTEXT/busybox"
PODMAN_BUILD="${PODMAN[*]} build -q --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"

machine_line "docker build"
echo
echo "onekube $("$ONEKUBE" --version) ($BUILD), $(hyperfine --version), $(podman --version) with $(runc --version | head -1)."
echo

hyperfine -N --runs "$RUNS" --warmup 2 --export-markdown "$WORK/cold.md" --export-json "$WORK/cold.json" \
    -n "onekube docker build --no-cache" "$ONEKUBE docker build -q --no-cache -t kubia $CONTEXT" \
    -n "podman build --no-cache" "$PODMAN_BUILD --no-cache -t kubia $CONTEXT" >/dev/null
hyperfine -N --runs "$RUNS" --warmup 2 --export-markdown "$WORK/cached.md" --export-json "$WORK/cached.json" \
    -n "onekube docker build (all cached)" "$ONEKUBE docker build -q -t kubia $CONTEXT" \
    -n "podman build (all cached)" "$PODMAN_BUILD -t kubia $CONTEXT" >/dev/null
median() { python3 -c "import json; r=json.load(open('$WORK/$1.json'))['results']; print('%.1f' % (r[$2]['median']*1000))"; }
ratio() { python3 -c "import json; r=json.load(open('$WORK/$1.json'))['results']; print('%.1f' % (r[1]['median']/r[0]['median']))"; }

echo "### Cold build: every step run (goal: ≤ podman's time)"
echo
cat "$WORK/cold.md"
echo
echo "Medians: onekube $(median cold 0) ms, podman $(median cold 1) ms; podman / onekube = $(ratio cold)×."
echo
echo "### Unchanged rebuild: every step from the cache (goal ≤ 100 ms)"
echo
cat "$WORK/cached.md"
echo
echo "Medians: onekube $(median cached 0) ms, podman $(median cached 1) ms; podman / onekube = $(ratio cached)×."
echo
echo "Command: \`sudo bench/build.sh\`"
