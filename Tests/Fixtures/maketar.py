#!/usr/bin/env python3
"""Writes a tar with exactly the entries a JSON spec lists, including ones that `tar` refuses to
create (`..` names, absolute paths, device nodes, links that escape): for hostile-layer tests.

usage: maketar.py OUT.tar < spec.json
spec: [{"name": "..", "type": "file|dir|symlink|hardlink|char|block|fifo", "data": "...",
        "target": "...", "mode": 420, "major": 1, "minor": 3}, ...]
"""
import io
import json
import sys
import tarfile

TYPES = {
    "file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE, "char": tarfile.CHRTYPE, "block": tarfile.BLKTYPE, "fifo": tarfile.FIFOTYPE,
}

def main():
    spec = json.load(sys.stdin)
    with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tar:
        for entry in spec:
            info = tarfile.TarInfo(entry["name"])
            info.type = TYPES[entry.get("type", "file")]
            info.mode = entry.get("mode", 0o755 if info.type == tarfile.DIRTYPE else 0o644)
            info.mtime = 1700000000
            info.linkname = entry.get("target", "")
            info.devmajor = entry.get("major", 0)
            info.devminor = entry.get("minor", 0)
            data = entry.get("data", "").encode()
            if info.type == tarfile.REGTYPE:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)

if __name__ == "__main__":
    main()
