#!/usr/bin/env python3
"""Load for onekube's Kubernetes API, with nothing but the standard library.
  api_load.py creates KUBE_URL TOKEN CA COUNT CLIENTS   -> writes/s for COUNT pod creates from CLIENTS threads
  api_load.py watch   KUBE_URL TOKEN CA WATCHERS WRITES  -> p50/p99 delay from a write's answer to each watcher's event
  api_load.py get     KUBE_URL TOKEN CA RUNS             -> p50/p99 of a Table list of the default namespace's pods
"""
import http.client
import json
import ssl
import statistics
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
    return http.client.HTTPSConnection(host.hostname, host.port, context=context, timeout=60)


def pod_body(prefix):
    return json.dumps({"metadata": {"generateName": prefix, "labels": {"bench": "yes"}},
                       "spec": {"containers": [{"name": "c", "image": "busybox"}]}})


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


if mode == "creates":
    count, clients = int(sys.argv[5]), int(sys.argv[6])
    per = count // clients
    errors = []

    def worker(n):
        conn = connection()
        for _ in range(per):
            conn.request("POST", PODS, body=pod_body("load-%d-" % n), headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 201:
                errors.append(response.status)
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    start = time.monotonic()
    for t in threads: t.start()
    for t in threads: t.join()
    elapsed = time.monotonic() - start
    print(json.dumps({"creates": per * clients, "clients": clients, "seconds": round(elapsed, 3),
                      "writes_per_second": round(per * clients / elapsed), "errors": len(errors)}))

elif mode == "watch":
    watchers, writes = int(sys.argv[5]), int(sys.argv[6])
    conn = connection()
    conn.request("POST", PODS, body=json.dumps({"metadata": {"name": "watched"},
                 "spec": {"containers": [{"name": "c", "image": "busybox"}]}}), headers=headers)
    created = json.loads(conn.getresponse().read())
    rv = created["metadata"]["resourceVersion"]
    arrivals = [dict() for _ in range(watchers)]
    ready = threading.Barrier(watchers + 1)

    def watch(i):
        c = connection()
        c.request("GET", PODS + "?watch=true&fieldSelector=metadata.name%3Dwatched&resourceVersion=" + rv, headers=headers)
        response = c.getresponse()
        ready.wait()
        seen = 0
        while seen < writes:
            line = response.readline()
            if not line:
                break
            at = time.monotonic()
            event = json.loads(line)
            arrivals[i][event["object"]["metadata"]["labels"]["seq"]] = at
            seen += 1
    threads = [threading.Thread(target=watch, args=(i,), daemon=True) for i in range(watchers)]
    for t in threads: t.start()
    ready.wait()
    time.sleep(0.5)
    written = {}
    for seq in range(writes):
        patch = json.dumps({"metadata": {"labels": {"seq": str(seq)}}})
        conn.request("PATCH", PODS + "/watched", body=patch,
                     headers=dict(headers, **{"Content-Type": "application/merge-patch+json"}))
        response = conn.getresponse()
        response.read()
        written[str(seq)] = time.monotonic()
        time.sleep(0.02)
    for t in threads: t.join(timeout=10)
    delays = [(arrivals[i][seq] - written[seq]) * 1000 for i in range(watchers) for seq in written if seq in arrivals[i]]
    missing = watchers * writes - len(delays)
    # An event may be read before the writer has parsed its own answer: count that as 0 ms.
    delays = [max(d, 0.0) for d in delays]
    print(json.dumps({"watchers": watchers, "writes": writes, "events": len(delays), "missing": missing,
                      "p50_ms": round(statistics.median(delays), 2), "p99_ms": round(percentile(delays, 99), 2)}))

elif mode == "get":
    runs = int(sys.argv[5])
    conn = connection()
    table = dict(headers, Accept="application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
    times = []
    for _ in range(runs):
        start = time.monotonic()
        conn.request("GET", PODS + "?limit=500", headers=table)
        response = conn.getresponse()
        body = response.read()
        times.append((time.monotonic() - start) * 1000)
    print(json.dumps({"runs": runs, "bytes": len(body), "p50_ms": round(statistics.median(times), 2),
                      "p99_ms": round(percentile(times, 99), 2)}))
