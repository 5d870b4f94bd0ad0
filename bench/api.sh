#!/usr/bin/env bash
# The Kubernetes API's figures: 1,000 creates from 8 concurrent clients, kubectl get pods over
# 1,000 pods (the HTTP request alone and the whole kubectl command), watch delivery to 100
# watchers. Prints a Markdown section. Needs root, curl, hyperfine, wrk, python3 and kubectl.
# usage: sudo bench/api.sh [path/to/onekube]
set -euo pipefail
cd "$(dirname "$0")/.."
ONEKUBE="${1:-}"
if [ -z "$ONEKUBE" ]; then
    swift build -c release --static-swift-stdlib --product onekube >/dev/null
    ONEKUBE="$(swift build -c release --static-swift-stdlib --show-bin-path)/onekube"
fi
WORK="$(mktemp -d /tmp/onekube-bench-api.XXXXXX)"
DATA="$WORK/data"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { "$ONEKUBE" stop --data-dir "$DATA" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
# --registry-mirror-only: the pods the node agent is given must not send it to Docker Hub.
"$ONEKUBE" start --data-dir "$DATA" --api-port "$PORT" --kubeconfig "$WORK/kubeconfig" --registry-mirror-only >/dev/null
URL="https://127.0.0.1:$PORT"
TOKEN="$(cat "$DATA/api-token")"
CA="$DATA/pki/ca.crt"
export ONEKUBE_TOKEN="$TOKEN"
POD='{"metadata":{"generateName":"load-","labels":{"bench":"yes"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'
echo "$POD" > "$WORK/pod.json"
PODS="$URL/api/v1/namespaces/default/pods"

# 1,000 creates, 8 at a time (curl's parallel mode), timed; then a sustained rate with wrk.
urls=$(for _ in $(seq 1000); do printf '%s ' "$PODS"; done)
start=$(date +%s.%N)
curl -s -Z --parallel-max 8 --cacert "$CA" -H "Authorization: Bearer $TOKEN" \
    -H "Content-Type: application/json" --data @"$WORK/pod.json" $urls >/dev/null
end=$(date +%s.%N)
count=$(curl -s --cacert "$CA" -H "Authorization: Bearer $TOKEN" "$PODS" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
creates_rate=$(python3 -c "print(round($count / ($end - $start)))")
TABLE='Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json'
CURL="curl -s -o /dev/null --cacert $CA -H 'Authorization: Bearer $TOKEN'"
export KUBECONFIG="$WORK/kubeconfig"
kubectl --cache-dir "$WORK/cache" get pods >/dev/null   # warm the discovery cache
hyperfine --runs 30 --warmup 3 --export-json "$WORK/get.json" \
    -n "GET pods Table, limit=500, a new curl process each (process start and TLS handshake included)" "$CURL -H '$TABLE' '$PODS?limit=500'" \
    -n "GET pods Table, all 1,000" "$CURL -H '$TABLE' '$PODS'" \
    -n "kubectl get pods (whole command, 2 pages)" "kubectl --cache-dir $WORK/cache get pods" >/dev/null
get_rows=$(python3 -c '
import json,sys
for r in json.load(open(sys.argv[1]))["results"]:
    t=sorted(r["times"]); print("| %s | p50 %.1f ms, p99 %.1f ms | %s |" % (r["command"], t[len(t)//2]*1000, t[int(len(t)*0.99)]*1000, "—"))
' "$WORK/get.json")
keepalive=$(python3 bench/api_load.py get "$URL" "$TOKEN" "$CA" 100 | python3 -c 'import json,sys; g=json.load(sys.stdin); print("p50 %s ms, p99 %s ms" % (g["p50_ms"], g["p99_ms"]))')
watch=$(python3 bench/api_load.py watch "$URL" "$TOKEN" "$CA" 100 50)
watch_p50=$(echo "$watch" | python3 -c 'import json,sys; print(json.load(sys.stdin)["p50_ms"])')
watch_p99=$(echo "$watch" | python3 -c 'import json,sys; print(json.load(sys.stdin)["p99_ms"])')
watch_sent=$(echo "$watch" | python3 -c 'import json,sys; w=json.load(sys.stdin); print("p50 %s ms, p99 %s ms; %s of %s events missing" % (w["sent_p50_ms"], w["sent_p99_ms"], w["missing"], w["watchers"]*w["writes"]))')
wrk_rate=$(wrk -t2 -c8 -d5s -s bench/create-pod.lua "$PODS" 2>&1 | awk '/Requests\/sec/ {print $2}')

echo "### Kubernetes API (1,000 pods in the namespace for the reads)"
echo
echo "| measurement | result | goal |"
echo "|:---|---:|---:|"
echo "| 1,000 pod creates from 8 concurrent clients (curl --parallel-max 8, TLS, keep-alive) | $count created, $creates_rate writes/s | ≥ 2,000 writes/s |"
echo "| sustained pod creates from 8 connections for 5 s (wrk) | $wrk_rate writes/s | ≥ 2,000 writes/s |"
echo "| GET pods Table, limit=500, from one keep-alive client (the request alone) | $keepalive | p50 ≤ 20 ms |"
echo "$get_rows"
echo "| watch delivery, 100 watchers × 50 writes (time from the write's answer to each event) | p50 $watch_p50 ms, p99 $watch_p99 ms | p99 ≤ 10 ms |"
echo "| the same, timed from the moment each write was sent (includes the commit) | $watch_sent | — |"
echo
echo "No peer runs here: k3s, kind and minikube need images or binaries from the internet."
echo
echo "Command: \`sudo bench/api.sh\`"
