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
    # One asyncio loop for every watcher and the writer: threads would add the interpreter's
    # 5 ms switch interval to the figures.
    import asyncio
    watchers, writes = int(sys.argv[5]), int(sys.argv[6])
    auth = "Authorization: Bearer %s\r\nHost: %s:%d\r\n" % (token, host.hostname, host.port)

    async def read_chunk(reader):
        size = int((await reader.readline()).strip() or b"0", 16)
        if size == 0:
            return b""
        data = await reader.readexactly(size + 2)
        return data[:-2]

    async def read_response(reader):
        head = await reader.readuntil(b"\r\n\r\n")
        fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:] if ": " in line)
        fields = {k.lower(): v for k, v in fields.items()}
        if "content-length" in fields:
            return head, await reader.readexactly(int(fields["content-length"]))
        body = b""
        while (chunk := await read_chunk(reader)):
            body += chunk
        await reader.readline()
        return head, body

    async def request(reader, writer, method, path, body=b"", content_type="application/json"):
        writer.write(("%s %s HTTP/1.1\r\n%sContent-Type: %s\r\nContent-Length: %d\r\n\r\n" %
                      (method, path, auth, content_type, len(body))).encode() + body)
        await writer.drain()
        return await read_response(reader)

    async def main():
        reader, writer = await asyncio.open_connection(host.hostname, host.port, ssl=context)
        _, body = await request(reader, writer, "POST", PODS, json.dumps({"metadata": {"name": "watched"},
                                "spec": {"containers": [{"name": "c", "image": "busybox"}]}}).encode())
        rv = json.loads(body)["metadata"]["resourceVersion"]
        arrivals = [dict() for _ in range(watchers)]
        streams = []
        for _ in range(watchers):
            r, w = await asyncio.open_connection(host.hostname, host.port, ssl=context)
            w.write(("GET %s?watch=true&fieldSelector=metadata.name%%3Dwatched&resourceVersion=%s HTTP/1.1\r\n%s\r\n"
                     % (PODS, rv, auth)).encode())
            await w.drain()
            await r.readuntil(b"\r\n\r\n")
            streams.append((r, w))

        async def watch(i, r):
            pending = b""
            while len(arrivals[i]) < writes:
                chunk = await read_chunk(r)
                if not chunk:
                    return
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    at = time.monotonic()
                    # The scheduler's binding and status updates arrive too; only the writes carry a seq.
                    seq = json.loads(line)["object"]["metadata"].get("labels", {}).get("seq")
                    if seq is not None and seq not in arrivals[i]:
                        arrivals[i][seq] = at
        tasks = [asyncio.create_task(watch(i, r)) for i, (r, _) in enumerate(streams)]
        await asyncio.sleep(0.5)
        written, sent = {}, {}
        for seq in range(writes):
            sent[str(seq)] = time.monotonic()
            await request(reader, writer, "PATCH", PODS + "/watched", json.dumps({"metadata": {"labels": {"seq": str(seq)}}}).encode(),
                          "application/merge-patch+json")
            written[str(seq)] = time.monotonic()
            await asyncio.sleep(0.02)
        await asyncio.wait(tasks, timeout=10)
        return arrivals, written, sent

    arrivals, written, sent = asyncio.run(main())
    delays = [(arrivals[i][seq] - written[seq]) * 1000 for i in range(watchers) for seq in written if seq in arrivals[i]]
    missing = watchers * writes - len(delays)
    # An event may be read before the writer has parsed its own answer: count that as 0 ms.
    delays = [max(d, 0.0) for d in delays]
    # The conservative view: from the moment the write was sent, so it includes the commit itself.
    from_sent = [(arrivals[i][seq] - sent[seq]) * 1000 for i in range(watchers) for seq in sent if seq in arrivals[i]]
    print(json.dumps({"watchers": watchers, "writes": writes, "events": len(delays), "missing": missing,
                      "p50_ms": round(statistics.median(delays), 2), "p99_ms": round(percentile(delays, 99), 2),
                      "sent_p50_ms": round(statistics.median(from_sent), 2), "sent_p99_ms": round(percentile(from_sent, 99), 2)}))

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
