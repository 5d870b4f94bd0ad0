#!/usr/bin/env python3
"""Pod start-up through onekube's Kubernetes API, with nothing but the standard library.
  pod_latency.py startup KUBE_URL TOKEN CA COUNT IMAGE
      -> p50/p99 from each pod's create request to its Running status seen through a watch
  pod_latency.py ready   KUBE_URL TOKEN CA SELECTOR COUNT
      -> returns once COUNT pods matching SELECTOR are Ready
  pod_latency.py node    KUBE_URL TOKEN CA NAME
      -> returns once the node NAME is Ready (polling every 5 ms)
The create time is taken on the client as the request is sent (creationTimestamp has only
second resolution), so each figure includes the create request itself.
"""
import http.client
import json
import ssl
import sys
import threading
import time
import urllib.parse

mode, url, token, ca = sys.argv[1:5]
host = urllib.parse.urlparse(url)
context = ssl.create_default_context(cafile=ca)
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
PODS = "/api/v1/namespaces/default/pods"


def connection():
    return http.client.HTTPSConnection(host.hostname, host.port, context=context, timeout=120)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def watch(query, on_event, stop):
    """Streams watch events of the default namespace's pods to on_event until stop is set."""
    conn = connection()
    conn.request("GET", PODS + "?watch=true&" + query, headers=headers)
    response = conn.getresponse()
    buffer = b""
    while not stop.is_set():
        chunk = response.read1(65536)
        if not chunk:
            break
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                on_event(json.loads(line), time.monotonic())
    conn.close()


def resource_version():
    conn = connection()
    conn.request("GET", PODS + "?limit=1", headers=headers)
    body = json.loads(conn.getresponse().read())
    conn.close()
    return body["metadata"]["resourceVersion"]


def is_ready(pod):
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in pod.get("status", {}).get("conditions", []))


if mode == "startup":
    count, image = int(sys.argv[5]), sys.argv[6]
    sent, running = {}, {}
    stop = threading.Event()
    lock = threading.Lock()

    def on_event(event, at):
        pod = event["object"]
        name = pod["metadata"]["name"]
        if pod.get("status", {}).get("phase") == "Running":
            with lock:
                running.setdefault(name, at)

    watcher = threading.Thread(target=watch, args=("resourceVersion=" + resource_version() + "&labelSelector=bench%3Dstartup", on_event, stop), daemon=True)
    watcher.start()
    time.sleep(0.2)
    conn = connection()
    for i in range(count):
        name = "startup-%03d" % i
        body = json.dumps({"metadata": {"name": name, "labels": {"bench": "startup"}},
                           "spec": {"terminationGracePeriodSeconds": 0,
                                    "containers": [{"name": "c", "image": image, "imagePullPolicy": "IfNotPresent",
                                                    "command": ["sleep", "3600"]}]}})
        sent[name] = time.monotonic()
        conn.request("POST", PODS, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 201:
            sys.exit("create %s: HTTP %d" % (name, response.status))
        # One create every 50 ms: the latency of each pod, not of a queue of them.
        time.sleep(0.05)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(running) < count:
        time.sleep(0.05)
    stop.set()
    latencies = [(running[n] - sent[n]) * 1000 for n in sent if n in running]
    print(json.dumps({"pods": count, "running": len(latencies),
                      "p50_ms": round(percentile(latencies, 50), 1), "p99_ms": round(percentile(latencies, 99), 1),
                      "max_ms": round(max(latencies), 1)}))

elif mode == "ready":
    selector, count = sys.argv[5], int(sys.argv[6])
    ready = set()
    done = threading.Event()
    finished = {}

    def on_event(event, at):
        pod = event["object"]
        name = pod["metadata"]["name"]
        if event["type"] != "DELETED" and is_ready(pod) and not pod["metadata"].get("deletionTimestamp"):
            ready.add(name)
        else:
            ready.discard(name)
        if len(ready) >= count and not done.is_set():
            finished["at"] = at
            done.set()

    # From resourceVersion 0 the watch first lists what exists, then streams.
    threading.Thread(target=watch, args=("resourceVersion=0&labelSelector=" + urllib.parse.quote(selector), on_event, done),
                     daemon=True).start()
    if not done.wait(120):
        sys.exit("not all Ready")

elif mode == "node":
    name = sys.argv[5]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = connection()
            conn.request("GET", "/api/v1/nodes/" + name, headers=headers)
            response = conn.getresponse()
            body = response.read()
            conn.close()
            if response.status == 200 and is_ready(json.loads(body)):
                sys.exit(0)
        except OSError:
            pass
        time.sleep(0.005)
    sys.exit("node %s not Ready" % name)
