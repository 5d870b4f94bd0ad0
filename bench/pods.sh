#!/usr/bin/env bash
# Pods: start-up latency through a watch (100 pods, image present), kubectl scale 1 → 100 until
# all are Ready, the daemon's memory with 100 pods, onekube start to a Ready node; podman's
# `kube play` of the same pod as the peer. Prints a Markdown section for bench/RESULTS.md.
# Needs root, hyperfine, skopeo, docker-registry, podman, kubectl, python3.
# usage: sudo bench/pods.sh [path/to/onekube]   (default: a release build, made if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_binary "${1:-}"
bench_workdir okpods
RUNS="${RUNS:-20}"
serve_busybox
# kube play takes no --ulimit: these machines' limits go in through containers.conf.
printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n' > "$WORK/containers.conf"
export CONTAINERS_CONF="$WORK/containers.conf"
podman_busybox

export ONEKUBE_DATA_DIR="$DATA"
export KUBECONFIG="$WORK/kubeconfig"
API_PORT=$(free_port)
START_ARGS=(--data-dir "$DATA" --bridge okpods0 --pod-cidr 10.253.0.0/20 --registry-mirror "http://127.0.0.1:$REGISTRY_PORT"
            --registry-mirror-only --api-port "$API_PORT" --kubeconfig "$KUBECONFIG")
"$ONEKUBE" start "${START_ARGS[@]}" >/dev/null
URL="https://127.0.0.1:$API_PORT"
TOKEN="$(cat "$DATA/api-token")"
CA="$DATA/pki/ca.crt"
LATENCY=(python3 bench/pod_latency.py)
"$ONEKUBE" docker pull -q busybox >/dev/null
KUBECTL=(kubectl --cache-dir "$WORK/kube-cache")
"${KUBECTL[@]}" get nodes >/dev/null   # warm the discovery cache

machine_line pods
echo
echo "onekube $("$ONEKUBE" --version) ($BUILD), $(hyperfine --version), $(kubectl version --client 2>/dev/null | head -1), $(podman --version) with $(runc --version | head -1)."
echo

# One pod, created and waited for by the CLIs, against podman kube play of the same pod.
cat > "$WORK/pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: bench
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
YAML
sed 's|image: busybox|image: localhost/bench-busybox|' "$WORK/pod.yaml" > "$WORK/podman-pod.yaml"
hyperfine -N --runs "$RUNS" --warmup 2 --export-markdown "$WORK/one.md" --export-json "$WORK/one.json" \
    --prepare "${KUBECTL[*]} delete pod bench --ignore-not-found --grace-period=0 --force --wait=true" \
    -n "onekube: kubectl create -f pod.yaml, then kubectl wait --for=condition=Ready" \
    "sh -c '${KUBECTL[*]} create -f $WORK/pod.yaml >/dev/null && ${KUBECTL[*]} wait --for=condition=Ready pod/bench --timeout=30s >/dev/null'" \
    --prepare "${PODMAN[*]} pod rm -f -t 0 --ignore bench" \
    -n "podman --runtime runc kube play pod.yaml" \
    "${PODMAN[*]} kube play --quiet $WORK/podman-pod.yaml" >/dev/null 2>"$WORK/hyperfine.err" || { cat "$WORK/hyperfine.err" >&2; exit 1; }
"${KUBECTL[@]}" delete pod bench --ignore-not-found --grace-period=0 --force >/dev/null 2>&1
echo "### One pod, image present, from the command line to running"
echo
cat "$WORK/one.md"
echo
echo "Medians: onekube $(python3 -c "import json; r=json.load(open('$WORK/one.json'))['results']; print('%.0f ms, podman %.0f ms; podman / onekube = %.1f×' % (r[0]['median']*1000, r[1]['median']*1000, r[1]['median']/r[0]['median']))")."
echo

# 100 pods, one every 50 ms, each timed from its create request to Running seen through a watch.
STARTUP=$("${LATENCY[@]}" startup "$URL" "$TOKEN" "$CA" 100 busybox)
"${KUBECTL[@]}" delete pods -l bench=startup --grace-period=0 --force >/dev/null 2>&1
for _ in $(seq 200); do [ -z "$("${KUBECTL[@]}" get pods -o name)" ] && break; sleep 0.1; done

# kubectl scale rc 1 → 100, until all 100 are Ready (watched).
cat > "$WORK/rc.yaml" <<YAML
apiVersion: v1
kind: ReplicationController
metadata:
  name: kubia
spec:
  replicas: 1
  selector:
    app: kubia
  template:
    metadata:
      labels:
        app: kubia
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: c
        image: busybox
        imagePullPolicy: IfNotPresent
        command: ["sleep", "3600"]
YAML
"${KUBECTL[@]}" create -f "$WORK/rc.yaml" >/dev/null
"${LATENCY[@]}" ready "$URL" "$TOKEN" "$CA" app=kubia 1
SCALE_START=$(date +%s.%N)
"${KUBECTL[@]}" scale rc kubia --replicas=100 >/dev/null
"${LATENCY[@]}" ready "$URL" "$TOKEN" "$CA" app=kubia 100
SCALE_END=$(date +%s.%N)
sleep 2
PID=$(cat "$DATA/run/onekube.pid")
RSS=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
ZYGOTE=$(pgrep -P "$PID" -f "__onekube-runtime zygote" | head -1)
pss() { awk '/^Pss:/ {s+=$2} END {print s+0}' "$@" 2>/dev/null; }
HELPERS=$(pgrep -P "$ZYGOTE" | wc -l)
HELPERS_PSS=$(pss $(for p in $(pgrep -P "$ZYGOTE"); do echo "/proc/$p/smaps_rollup"; done))
"${KUBECTL[@]}" delete rc kubia >/dev/null

# onekube start to a Ready node (a stopped daemon each time; the data directory stays).
"$ONEKUBE" stop --data-dir "$DATA" >/dev/null
hyperfine -N --runs 10 --warmup 1 --export-markdown "$WORK/start.md" --export-json "$WORK/start.json" \
    --prepare "$ONEKUBE stop --data-dir $DATA" \
    -n "onekube start, until the node onekube is Ready" \
    "sh -c '$ONEKUBE start ${START_ARGS[*]} >/dev/null && ${LATENCY[*]} node $URL $TOKEN $CA onekube'" >/dev/null

echo "### 100 pods, image present: each from its create request to Running, seen through a watch (goal p50 ≤ 50 ms, p99 ≤ 200 ms)"
echo
python3 -c "
import json; r = json.loads('$STARTUP')
print('| pods running | p50 | p99 | max |'); print('|---:|---:|---:|---:|')
print('| %d of %d | %.1f ms | %.1f ms | %.1f ms |' % (r['running'], r['pods'], r['p50_ms'], r['p99_ms'], r['max_ms']))"
echo
echo "### kubectl scale rc --replicas=100 from 1 (goal: all Ready ≤ 5 s; daemon RSS ≤ 100 MB)"
echo
echo "| measure | value |"
echo "|:---|---:|"
printf '| kubectl scale, until all 100 pods are Ready | %.2f s |\n' "$(echo "$SCALE_END - $SCALE_START" | bc -l)"
printf '| daemon VmRSS with 100 running pods | %.1f MB |\n' "$(echo "$RSS/1024" | bc -l)"
printf '| the %d runtime helpers (a sandbox and a container each), PSS summed | %.1f MB |\n' "$HELPERS" "$(echo "$HELPERS_PSS/1024" | bc -l)"
echo
echo "### onekube start to a Ready node (goal ≤ 0.5 s)"
echo
cat "$WORK/start.md"
echo
echo "Command: \`sudo bench/pods.sh\`"
