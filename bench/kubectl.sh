#!/usr/bin/env bash
# kubectl mode: `onekube kubectl get pods` against the real `kubectl get pods` (its discovery
# cache warm, as in daily use) on the same onekube with 100 running pods, side by side in one
# hyperfine run; prints a Markdown section for bench/RESULTS.md.
# Needs root, hyperfine, skopeo, docker-registry, kubectl, python3.
# usage: sudo bench/kubectl.sh [path/to/onekube]   (default: a release build, made if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_binary "${1:-}"
bench_workdir okkubectl
RUNS="${RUNS:-30}"
serve_busybox

export ONEKUBE_DATA_DIR="$DATA"
export KUBECONFIG="$WORK/kubeconfig"
"$ONEKUBE" start --data-dir "$DATA" --bridge okkctl0 --pod-cidr 10.251.0.0/20 --service-cidr 10.250.0.0/24 \
    --lb-range 127.250.0.0/24 --registry-mirror "http://127.0.0.1:$REGISTRY_PORT" --registry-mirror-only \
    --api-port "$(free_port)" --kubeconfig "$KUBECONFIG" >/dev/null
"$ONEKUBE" docker pull -q busybox >/dev/null
KUBECTL=(kubectl --cache-dir "$WORK/kube-cache")
"${KUBECTL[@]}" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ReplicationController
metadata: {name: sleepers}
spec:
  replicas: 100
  selector: {app: sleepers}
  template:
    metadata: {labels: {app: sleepers}}
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{name: sleep, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}]
YAML
for _ in $(seq 600); do
    [ "$("${KUBECTL[@]}" get pods --no-headers 2>/dev/null | grep -c ' Running ')" = 100 ] && break
    sleep 0.1
done
RUNNING=$("${KUBECTL[@]}" get pods --no-headers | grep -c ' Running ' || true)
# Same table from both (AGE masked: the two commands run a moment apart).
mask() { sed -E 's/[0-9]+(s|m|h|d)[0-9]*(s|m|h)?$/AGE/'; }
SAME=$(diff <("$ONEKUBE" kubectl get pods | mask) <("${KUBECTL[@]}" get pods | mask) >/dev/null && echo identical || echo different)

machine_line "kubectl mode"
echo
echo "onekube $("$ONEKUBE" --version) ($BUILD), $(kubectl version --client 2>/dev/null | head -1), $(hyperfine --version)."
echo "Load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "### get pods with $RUNNING running pods (goal: onekube kubectl ≤ 0.5× kubectl's wall time)"
echo
hyperfine -N --warmup 3 --runs "$RUNS" --export-markdown "$WORK/hf.md" --export-json "$WORK/hf.json" \
    -n "onekube kubectl get pods" "$ONEKUBE kubectl get pods" \
    -n "kubectl get pods" "${KUBECTL[*]} get pods" >/dev/null
cat "$WORK/hf.md"
echo
python3 - "$WORK/hf.json" <<'PY'
import json, sys
ours, theirs = (r["median"] for r in json.load(open(sys.argv[1]))["results"])
print("onekube kubectl's median is %.2f× kubectl's (%.1f ms vs %.1f ms)." % (ours / theirs, ours * 1e3, theirs * 1e3))
PY
echo "Both print the $SAME table (ages masked)."
echo
echo "Command: \`sudo bench/kubectl.sh\`"
