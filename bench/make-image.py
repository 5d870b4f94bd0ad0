#!/usr/bin/env python3
"""Writes an OCI image layout for benchmarks: a busybox layer plus N layers of incompressible
data (so compression does not flatter anyone). usage: make-image.py LAYOUT_DIR N_LAYERS MB_PER_LAYER"""
import gzip, hashlib, io, json, os, shutil, sys, tarfile

def blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest

def layer_tar(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in files:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 1700000000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()

def main():
    layout, count, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    shutil.rmtree(layout, ignore_errors=True)
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    busybox = open(shutil.which("busybox"), "rb").read()
    layers = [layer_tar([("bin/busybox", busybox, 0o755)])]
    rng = hashlib.sha256(b"onekube-bench")
    for i in range(count):
        chunks, size = [], 0
        while size < mb << 20:
            rng = hashlib.sha256(rng.digest())
            piece = hashlib.shake_256(rng.digest()).digest(1 << 16)
            chunks.append(piece)
            size += len(piece)
        layers.append(layer_tar([(f"data/{i}/blob.bin", b"".join(chunks), 0o644)]))
    descriptors, diff_ids = [], []
    for tar in layers:
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
        gz = gzip.compress(tar, compresslevel=1, mtime=0)
        descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob(layout, gz), "size": len(gz)})
    config = json.dumps({"architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
                         "config": {"Cmd": ["sh"]}, "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(layout, config), "size": len(config)},
                           "layers": descriptors}).encode()
    digest = blob(layout, manifest)
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest,
               "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]},
              open(os.path.join(layout, "index.json"), "w"))
    json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(layout, "oci-layout"), "w"))

main()
