#!/usr/bin/env python3
"""Drives onekube's API with the official Python `kubernetes` client (Debian's python3-kubernetes):
list, create, patch, watch and delete pods. Prints one line per step; exits non-zero on failure.
usage: k8s_client_check.py KUBECONFIG"""
import sys
import threading
import time

from kubernetes import client, config, watch


def main():
    config.load_kube_config(config_file=sys.argv[1])
    v1 = client.CoreV1Api()
    names = [p.metadata.name for p in v1.list_namespaced_pod("default").items]
    print("listed", len(names))

    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="py-pod", labels={"app": "py"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox", command=["sleep", "3600"])]))
    created = v1.create_namespaced_pod("default", pod)
    assert created.metadata.uid and created.status.phase == "Pending", created
    print("created", created.metadata.name, created.metadata.resource_version)

    patched = v1.patch_namespaced_pod("py-pod", "default", {"metadata": {"labels": {"tier": "web"}}})
    assert patched.metadata.labels == {"app": "py", "tier": "web"}, patched.metadata.labels
    print("patched", patched.metadata.labels["tier"])

    seen = []
    steps = []
    def later():
        time.sleep(0.5)
        v1.patch_namespaced_pod("py-pod", "default", {"metadata": {"labels": {"step": "2"}}})
        v1.delete_namespaced_pod("py-pod", "default")
    threading.Thread(target=later).start()
    w = watch.Watch()
    for event in w.stream(v1.list_namespaced_pod, "default", label_selector="app=py",
                          resource_version=patched.metadata.resource_version, timeout_seconds=10):
        seen.append(event["type"])
        steps.append((event["object"].metadata.labels or {}).get("step"))
        if event["type"] == "DELETED":
            w.stop()
    # The scheduler's binding may show up as well; the patch and the deletion must.
    assert seen[-1] == "DELETED" and "2" in steps[:-1], (seen, steps)
    print("watched", "MODIFIED,DELETED")

    try:
        v1.read_namespaced_pod("py-pod", "default")
        raise AssertionError("pod still exists")
    except client.exceptions.ApiException as error:
        assert error.status == 404, error
    print("OK")


main()
