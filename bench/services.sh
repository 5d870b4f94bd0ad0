#!/usr/bin/env bash
# Service traffic: a busybox httpd behind a LoadBalancer service (onekube's userspace proxy)
# against the same httpd reached straight at its container IP, through HAProxy (the reference
# userspace TCP proxy, splicing as onekube does) and through podman's `-p` port publishing (a
# kernel DNAT rule), in one run; then the book's kubia app (Node.js, keep-alive connections: the
# proxy's own cost per request, with no connection set-up on the way) the same four ways.
# Prints a Markdown section for bench/RESULTS.md.
# Needs root, wrk, curl, skopeo, docker-registry, kubectl, haproxy, podman and nodejs (apt-get).
# usage: sudo bench/services.sh [path/to/onekube]   (default: a release build, made if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_binary "${1:-}"
bench_workdir oksvc
DURATION="${DURATION:-10}"
serve_busybox

# Its own networks, so that it runs beside other instances.
export ONEKUBE_DATA_DIR="$DATA"
export KUBECONFIG="$WORK/kubeconfig"
# Started as from a login session's usual soft limit of 1,024 open files (the daemon raises it).
prlimit --nofile=1024:"$(ulimit -Hn)" "$ONEKUBE" start --data-dir "$DATA" --bridge okbsvc0 --pod-cidr 10.253.0.0/24 --service-cidr 10.252.0.0/24 \
    --lb-range 127.252.0.0/24 --registry-mirror "http://127.0.0.1:$REGISTRY_PORT" --registry-mirror-only --api-port "$(free_port)" --kubeconfig "$KUBECONFIG" >/dev/null
"$ONEKUBE" docker pull -q busybox >/dev/null
# index.html: a small answer; big: 256 MiB for the download.
HTTPD='mkdir -p /www && echo hello > /www/index.html && head -c 268435456 /dev/zero > /www/big && exec httpd -f -p 8080 -h /www'
"$ONEKUBE" docker run -d --name web busybox sh -c "$HTTPD" >/dev/null
POD_IP=$("$ONEKUBE" docker inspect -f '{{.NetworkSettings.IPAddress}}' web)
# The book's app.js (chapter 2, Resources/examples/kubia), run by the host's node from a busybox
# container with the host's /usr mounted read-only (no image to download).
NODE_MOUNTS=(-v /usr:/usr:ro -v /usr/lib:/lib:ro -v /usr/lib64:/lib64:ro -v "$PWD/Resources/examples/kubia/app.js:/app.js:ro")
"$ONEKUBE" docker run -d --name kubia "${NODE_MOUNTS[@]}" busybox /usr/bin/node /app.js >/dev/null
KUBIA_IP=$("$ONEKUBE" docker inspect -f '{{.NetworkSettings.IPAddress}}' kubia)
# A LoadBalancer service NAME on 8080 whose Endpoints the bench writes: the container at IP.
expose() { # name ip
    kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: $1}
spec:
  type: LoadBalancer
  ports: [{port: 8080, targetPort: 8080}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: $1}
subsets: [{addresses: [{ip: $2}], ports: [{port: 8080}]}]
YAML
}
expose kubia "$KUBIA_IP"
expose web "$POD_IP"
START=$(date +%s.%N)
until LB_IP=$(kubectl get svc web -o 'jsonpath={.status.loadBalancer.ingress[0].ip}') && [ -n "$LB_IP" ]; do sleep 0.01; done
ASSIGNED=$(echo "$(date +%s.%N) - $START" | bc -l)
for _ in $(seq 500); do curl -fs "http://$LB_IP:8080/" >/dev/null && break; sleep 0.02; done
until KUBIA_LB=$(kubectl get svc kubia -o 'jsonpath={.status.loadBalancer.ingress[0].ip}') && [ -n "$KUBIA_LB" ]; do sleep 0.01; done
for _ in $(seq 500); do curl -fs "http://$KUBIA_LB:8080/" >/dev/null && break; sleep 0.02; done

podman_busybox
PODMAN_PORT=$(free_port)
"${PODMAN[@]}" run -d --name web --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -p "127.0.0.1:$PODMAN_PORT:8080" \
    localhost/bench-busybox sh -c "$HTTPD" >/dev/null
for _ in $(seq 500); do curl -fs "http://127.0.0.1:$PODMAN_PORT/" >/dev/null && break; sleep 0.02; done
PODMAN_KUBIA_PORT=$(free_port)
"${PODMAN[@]}" run -d --name kubia --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -p "127.0.0.1:$PODMAN_KUBIA_PORT:8080" \
    "${NODE_MOUNTS[@]}" localhost/bench-busybox /usr/bin/node /app.js >/dev/null
for _ in $(seq 500); do curl -fs "http://127.0.0.1:$PODMAN_KUBIA_PORT/" >/dev/null && break; sleep 0.02; done

# HAProxy in TCP mode with splice(2), to the same container IP.
HAPROXY_PORT=$(free_port)
HAPROXY_KUBIA_PORT=$(free_port)
cat > "$WORK/haproxy.cfg" <<CFG
global
    maxconn 4096
    pidfile $WORK/haproxy.pid
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend web
    bind 127.0.0.1:$HAPROXY_PORT
    option splice-auto
    default_backend web
backend web
    option splice-auto
    server web $POD_IP:8080
frontend kubia
    bind 127.0.0.1:$HAPROXY_KUBIA_PORT
    option splice-auto
    default_backend kubia
backend kubia
    option splice-auto
    server kubia $KUBIA_IP:8080
CFG
haproxy -D -f "$WORK/haproxy.cfg"
trap 'kill "$(cat "$WORK/haproxy.pid")" 2>/dev/null; bench_cleanup' EXIT
for _ in $(seq 500); do curl -fs "http://127.0.0.1:$HAPROXY_PORT/" >/dev/null && break; sleep 0.02; done
for _ in $(seq 500); do curl -fs "http://127.0.0.1:$HAPROXY_KUBIA_PORT/" >/dev/null && break; sleep 0.02; done

TARGETS=("onekube LoadBalancer $LB_IP:8080" "container IP $POD_IP:8080 (direct)" "HAProxy 127.0.0.1:$HAPROXY_PORT" "podman -p 127.0.0.1:$PODMAN_PORT")
ADDRESSES=("$LB_IP:8080" "$POD_IP:8080" "127.0.0.1:$HAPROXY_PORT" "127.0.0.1:$PODMAN_PORT")
KUBIA_TARGETS=("onekube LoadBalancer $KUBIA_LB:8080" "container IP $KUBIA_IP:8080 (direct)" "HAProxy 127.0.0.1:$HAPROXY_KUBIA_PORT" "podman -p 127.0.0.1:$PODMAN_KUBIA_PORT")
KUBIA_ADDRESSES=("$KUBIA_LB:8080" "$KUBIA_IP:8080" "127.0.0.1:$HAPROXY_KUBIA_PORT" "127.0.0.1:$PODMAN_KUBIA_PORT")

# Every request is a new connection, and each leaves a TIME_WAIT socket for 60 s: a row run
# right after another would find thousands and pay for them in connect(). Wait them out.
settle() {
    for _ in $(seq 40); do
        [ "$(ss -tan state time-wait | wc -l)" -lt 2000 ] && return
        sleep 2
    done
}

# wrk's summary for one target: requests/s, p50 and p99 latency (µs), errors.
measure() { # address connections
    settle
    wrk -t1 -c"$2" -d"${DURATION}s" --latency "http://$1/" > "$WORK/wrk.txt" 2>&1 || true
    python3 - "$WORK/wrk.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def us(v):
    n, unit = float(re.match(r"[\d.]+", v).group()), re.sub(r"[\d.]+", "", v)
    return n * {"us": 1, "ms": 1e3, "s": 1e6}[unit]
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
p50 = re.search(r"50%\s+(\S+)", text)
p99 = re.search(r"99%\s+(\S+)", text)
errors = re.search(r"Socket errors: (.*)", text)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print("%.0f %.0f %.0f %s" % (float(rps.group(1)) if rps else 0, us(p50.group(1)) if p50 else 0, us(p99.group(1)) if p99 else 0,
      "none" if not errors and not non2xx else ((errors.group(1) if errors else "") + (" non-2xx " + non2xx.group(1) if non2xx else "")).replace(" ", "_")))
PY
}
download() { # address → MB/s, the median of 5
    for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{speed_download}\n' "http://$1/big"; done | sort -n | sed -n 3p |
        awk '{printf "%.0f", $1/1048576}'
}

machine_line services
echo
echo "onekube $("$ONEKUBE" --version) ($BUILD), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(curl --version | head -1 | cut -d' ' -f1-2), $(haproxy -v | head -1 | cut -d' ' -f1-3), $(podman --version) with $(runc --version | head -1) (rootful, netavark/CNI port mapping)."
echo "Load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (the figures move with whatever else runs on the machine)."
echo "The same busybox httpd (\`httpd -f -p 8080\`, one connection per request) behind each; wrk runs ${DURATION} s per row."
echo
printf 'EXTERNAL-IP assigned %.0f ms after the Service was created (goal ≤ 1 s).\n\n' "$(echo "$ASSIGNED * 1000" | bc -l)"
echo "| path | small GET, 1 connection: req/s | p50 | p99 | 16 connections: req/s | 256 MiB download |"
echo "|:---|---:|---:|---:|---:|---:|"
declare -A RPS1 P50 RPS16 MBS
for i in 0 1 2 3; do
    read -r rps1 p50 p99 err1 <<<"$(measure "${ADDRESSES[$i]}" 1)"
    read -r rps16 _ _ err16 <<<"$(measure "${ADDRESSES[$i]}" 16)"
    mbs=$(download "${ADDRESSES[$i]}")
    RPS1[$i]=$rps1; P50[$i]=$p50; RPS16[$i]=$rps16; MBS[$i]=$mbs
    note=""
    [ "$err1" != none ] || [ "$err16" != none ] && note=" (errors: $err1 / $err16)"
    echo "| ${TARGETS[$i]}$note | $rps1 | $p50 µs | $p99 µs | $rps16 | $mbs MB/s |"
done
echo
ratio() { python3 -c "print('%.0f%%' % (100.0 * $1 / $2) if $2 else 'n/a')"; }
echo "Through the LoadBalancer vs direct: $(ratio "${RPS1[0]}" "${RPS1[1]}") of the request rate on one connection, $(ratio "${RPS16[0]}" "${RPS16[1]}") on 16, $(ratio "${MBS[0]}" "${MBS[1]}") of the download throughput (goal ≥ 80%); added p50 latency $(( ${P50[0]} - ${P50[1]} )) µs (goal ≤ 100 µs)."
echo "onekube's LoadBalancer vs HAProxy: $(ratio "${RPS1[0]}" "${RPS1[2]}") of HAProxy's request rate on one connection, $(ratio "${RPS16[0]}" "${RPS16[2]}") on 16, $(ratio "${MBS[0]}" "${MBS[2]}") of its download throughput; p50 $(( ${P50[0]} - ${P50[2]} )) µs from HAProxy's."
echo "onekube's LoadBalancer vs podman's -p: $(ratio "${RPS1[0]}" "${RPS1[3]}") of podman's request rate on one connection, $(ratio "${RPS16[0]}" "${RPS16[3]}") on 16, $(ratio "${MBS[0]}" "${MBS[3]}") of its download throughput."
echo
echo "The book's kubia app (node $(node --version), \`app.js\` as in chapter 2, logging each request) behind each; wrk keeps its connections open (HTTP keep-alive), so every request crosses the proxy with no connection set-up:"
echo
echo "| path | 1 connection: req/s | p50 | p99 | 16 connections: req/s | p50 |"
echo "|:---|---:|---:|---:|---:|---:|"
declare -A KRPS1 KP50 KRPS16
for i in 0 1 2 3; do
    read -r rps1 p50 p99 err1 <<<"$(measure "${KUBIA_ADDRESSES[$i]}" 1)"
    read -r rps16 p50_16 _ err16 <<<"$(measure "${KUBIA_ADDRESSES[$i]}" 16)"
    KRPS1[$i]=$rps1; KP50[$i]=$p50; KRPS16[$i]=$rps16
    note=""
    [ "$err1" != none ] || [ "$err16" != none ] && note=" (errors: $err1 / $err16)"
    echo "| ${KUBIA_TARGETS[$i]}$note | $rps1 | $p50 µs | $p99 µs | $rps16 | $p50_16 µs |"
done
echo
echo "Through the LoadBalancer vs direct: $(ratio "${KRPS1[0]}" "${KRPS1[1]}") of the request rate on one connection, $(ratio "${KRPS16[0]}" "${KRPS16[1]}") on 16 (goal ≥ 80%); added p50 latency $(( ${KP50[0]} - ${KP50[1]} )) µs (goal ≤ 100 µs). HAProxy: $(ratio "${KRPS1[2]}" "${KRPS1[1]}") and $(ratio "${KRPS16[2]}" "${KRPS16[1]}") of direct, added p50 $(( ${KP50[2]} - ${KP50[1]} )) µs."
echo

# 1,000 connections opened at once, each then sent a request: how many are answered within
# 60 s, reset, still waiting, or failed to connect (5 s) or send. busybox httpd listens with a
# backlog of 9, so a burst of connections to it loses SYNs that the kernel resends after 1, 3,
# 7, 15 s: run through HAProxy and straight at the container too, to tell the proxy's limits
# from the backend's.
hold() { # host port → "answered reset waiting failed"
    settle
    python3 - "$1" "$2" <<'PY'
import selectors, socket, sys, time
socks, failed = [], 0
for _ in range(1000):
    try:
        socks.append(socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5))
    except OSError:
        failed += 1
selector = selectors.DefaultSelector()
for s in socks:
    try:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
    except OSError:
        failed += 1
answered = reset = 0
deadline = time.monotonic() + 60
while selector.get_map() and time.monotonic() < deadline:
    for key, _ in selector.select(timeout=1):
        selector.unregister(key.fileobj)
        try:
            if key.fileobj.recv(64).startswith(b"HTTP/1."):
                answered += 1
            else:
                reset += 1
        except OSError:
            reset += 1
print(answered, reset, len(selector.get_map()), failed)
PY
}
echo "1,000 connections opened at once, then each sent a request (answers awaited for 60 s):"
echo
echo "| path | answered | reset or closed unanswered | still waiting | failed to connect or send |"
echo "|:---|---:|---:|---:|---:|"
for i in 0 2 1; do
    read -r ok reset waiting failed <<<"$(hold "${ADDRESSES[$i]%:*}" "${ADDRESSES[$i]##*:}")"
    echo "| ${TARGETS[$i]} | $ok | $reset | $waiting | $failed |"
done
echo
echo "(The daemon was started with a soft limit of 1,024 open files; it raised it to $(awk '/^Max open files/ {print $4}' "/proc/$(cat "$DATA/run/onekube.pid")/limits").)"
echo
echo "Command: \`sudo bench/services.sh\`"
