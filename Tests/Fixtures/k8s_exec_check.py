#!/usr/bin/env python3
"""Execs into pod `kubia` with the official Python `kubernetes` client (WebSocket,
v4.channel.k8s.io): output, stdin, the exit code. Prints one line per step; exits non-zero on failure.
usage: k8s_exec_check.py KUBECONFIG"""
import sys

from kubernetes import client, config
from kubernetes.stream import stream


def main():
    config.load_kube_config(config_file=sys.argv[1])
    v1 = client.CoreV1Api()
    out = stream(v1.connect_get_namespaced_pod_exec, "kubia", "default", command=["echo", "hi"],
                 stderr=True, stdin=False, stdout=True, tty=False)
    assert out == "hi\n", repr(out)
    print("echo", out.strip())

    session = stream(v1.connect_get_namespaced_pod_exec, "kubia", "default", command=["sh", "-c", "read x; echo got $x; exit 4"],
                     stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
    session.write_stdin("py\n")
    session.run_forever(timeout=20)
    got = session.read_stdout()
    assert got == "got py\n", repr(got)
    assert session.returncode == 4, session.returncode
    print("stdin", got.strip(), "exit", session.returncode)
    print("OK")


if __name__ == "__main__":
    main()
