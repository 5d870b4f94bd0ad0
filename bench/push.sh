#!/usr/bin/env bash
# docker push of a 50 MB image (busybox + 50 MB of random bytes, built by onekube) to Debian's
# docker-registry on 127.0.0.1, against `skopeo copy` of the same image from an OCI layout to the
# same registry, in one run; the registry's storage is emptied before every push, so every blob
# is uploaded. Prints a Markdown section for bench/RESULTS.md. Needs root, hyperfine, skopeo,
# docker-registry.
# usage: sudo bench/push.sh [path/to/onekube]   (default: a release build, made if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_binary "${1:-}"
bench_workdir okpush
RUNS="${RUNS:-10}"
serve_busybox
export ONEKUBE_DATA_DIR="$DATA"
API_PORT=$(free_port)
"$ONEKUBE" start --data-dir "$DATA" --bridge okpush0 --pod-cidr 10.254.32.0/20 --registry-mirror-only \
    --api-port "$API_PORT" --kubeconfig "$WORK/kubeconfig" >/dev/null
CONTEXT="$WORK/big"
mkdir -p "$CONTEXT"
cp /bin/busybox "$CONTEXT/busybox"
head -c 50M /dev/urandom > "$CONTEXT/big.bin"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY big.bin /big.bin\n' > "$CONTEXT/Dockerfile"
REGISTRY="127.0.0.1:$REGISTRY_PORT"
"$ONEKUBE" docker build -q -t "$REGISTRY/bench/big" "$CONTEXT" >/dev/null
"$ONEKUBE" docker push "$REGISTRY/bench/big" >/dev/null
skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/bench/big:latest" "oci:$WORK/big-layout:latest"
SIZE=$(du -sm "$WORK/big-layout/blobs" | cut -f1)
EMPTY="rm -rf $WORK/registry/docker"

machine_line "docker push"
echo
echo "onekube $("$ONEKUBE" --version) ($BUILD), $(hyperfine --version), $(skopeo --version), docker-registry $(dpkg-query -W -f '${Version}' docker-registry)."
echo
hyperfine -N --runs "$RUNS" --warmup 1 --prepare "$EMPTY" --export-markdown "$WORK/push.md" --export-json "$WORK/push.json" \
    -n "onekube docker push (${SIZE} MB compressed)" "$ONEKUBE docker push $REGISTRY/bench/big" \
    -n "skopeo copy oci: → docker://" "skopeo copy -q --dest-tls-verify=false --preserve-digests oci:$WORK/big-layout:latest docker://$REGISTRY/bench/skopeo:latest" >/dev/null
median() { python3 -c "import json; r=json.load(open('$WORK/push.json'))['results']; print('%.1f' % (r[$1]['median']*1000))"; }
echo "### Push of a 50 MB image to a registry on 127.0.0.1, every blob uploaded"
echo
cat "$WORK/push.md"
echo
echo "Medians: onekube $(median 0) ms, skopeo $(median 1) ms; skopeo / onekube = $(python3 -c "import json; r=json.load(open('$WORK/push.json'))['results']; print('%.2f' % (r[1]['median']/r[0]['median']))")×."
echo
echo "Command: \`sudo bench/push.sh\`"
