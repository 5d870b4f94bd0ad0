#!/usr/bin/env python3
"""Generates Sources/KubeProtobuf/Schema+Generated.swift: the wire schema onekube decodes Kubernetes
protobuf request bodies with.

Usage:
    Scripts/generate-protobuf-schema.py PROTO_ROOT > Sources/KubeProtobuf/Schema+Generated.swift

PROTO_ROOT holds Kubernetes' own files laid out by Go package, as in the staging repositories:
    PROTO_ROOT/k8s.io/api/{core,apps,batch,coordination,discovery,policy,autoscaling}/v1/generated.proto
    PROTO_ROOT/k8s.io/apimachinery/pkg/{apis/meta/v1,util/intstr,api/resource,runtime}/generated.proto
and, beside each generated.proto where the package has pointer fields, its zz_generated.deepcopy.go.
They are not part of this repository: fetch them from kubernetes/api and kubernetes/apimachinery (or
the staging/ directory of kubernetes/kubernetes) at the release you follow.

What comes from where:
- generated.proto: message names, field numbers, JSON names (go-to-protobuf names every field after
  its JSON name), types, repeated/map, and the `+optional` marker copied from the Go types.
- zz_generated.deepcopy.go: which scalar fields are Go pointers (`*out = new(T)`). Go's JSON keeps a
  pointer field that is set even when its value is zero (`replicas: 0`, `automountServiceAccountToken:
  false`), while a plain `omitempty` field that is zero is left out. The protobuf encoder writes every
  non-pointer field, zero or not, so the decoder needs to know which zeros are real.
- INLINE below: Go struct embeddings (`json:",inline"`), which the .proto cannot express.

A scalar field keeps a zero value in JSON when it is a Go pointer, or when it has no `+optional`
marker (required fields are declared without `omitempty`). Only messages reachable from KINDS are
emitted; a reachable message missing from PROTO_ROOT is an error.
"""
import os
import re
import sys

# The kinds onekube serves (ResourceCatalog.all) and the subresource kinds that carry a body.
KINDS = [
    ("v1", "ConfigMap", "k8s.io.api.core.v1.ConfigMap"),
    ("v1", "Endpoints", "k8s.io.api.core.v1.Endpoints"),
    ("v1", "Event", "k8s.io.api.core.v1.Event"),
    ("v1", "Namespace", "k8s.io.api.core.v1.Namespace"),
    ("v1", "Node", "k8s.io.api.core.v1.Node"),
    ("v1", "Pod", "k8s.io.api.core.v1.Pod"),
    ("v1", "ReplicationController", "k8s.io.api.core.v1.ReplicationController"),
    ("v1", "Secret", "k8s.io.api.core.v1.Secret"),
    ("v1", "ServiceAccount", "k8s.io.api.core.v1.ServiceAccount"),
    ("v1", "Service", "k8s.io.api.core.v1.Service"),
    ("v1", "Binding", "k8s.io.api.core.v1.Binding"),
    ("apps/v1", "DaemonSet", "k8s.io.api.apps.v1.DaemonSet"),
    ("apps/v1", "Deployment", "k8s.io.api.apps.v1.Deployment"),
    ("apps/v1", "ReplicaSet", "k8s.io.api.apps.v1.ReplicaSet"),
    ("batch/v1", "Job", "k8s.io.api.batch.v1.Job"),
    ("coordination.k8s.io/v1", "Lease", "k8s.io.api.coordination.v1.Lease"),
    ("discovery.k8s.io/v1", "EndpointSlice", "k8s.io.api.discovery.v1.EndpointSlice"),
    ("policy/v1", "Eviction", "k8s.io.api.policy.v1.Eviction"),
    ("autoscaling/v1", "Scale", "k8s.io.api.autoscaling.v1.Scale"),
]
# Registered in every group version by apimachinery (AddToGroupVersion), so not tied to one.
EXTRA_ROOTS = ["k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions"]

# (message, field): Go embeds the field's struct, so its members are the parent's in JSON.
INLINE = {
    ("k8s.io.api.core.v1.Volume", "volumeSource"),
    ("k8s.io.api.core.v1.Probe", "handler"),
    ("k8s.io.api.core.v1.EphemeralContainer", "ephemeralContainerCommon"),
    ("k8s.io.api.core.v1.ConfigMapEnvSource", "localObjectReference"),
    ("k8s.io.api.core.v1.ConfigMapKeySelector", "localObjectReference"),
    ("k8s.io.api.core.v1.ConfigMapProjection", "localObjectReference"),
    ("k8s.io.api.core.v1.ConfigMapVolumeSource", "localObjectReference"),
    ("k8s.io.api.core.v1.SecretEnvSource", "localObjectReference"),
    ("k8s.io.api.core.v1.SecretKeySelector", "localObjectReference"),
    ("k8s.io.api.core.v1.SecretProjection", "localObjectReference"),
}

SCALARS = {"bool", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64",
           "sfixed32", "sfixed64", "float", "double", "string", "bytes"}

SHORT_PREFIXES = [
    ("k8s.io.apimachinery.pkg.apis.", ""),
    ("k8s.io.apimachinery.pkg.util.", ""),
    ("k8s.io.apimachinery.pkg.api.", ""),
    ("k8s.io.apimachinery.pkg.", ""),
    ("k8s.io.api.", ""),
]


def short(name):
    for prefix, replacement in SHORT_PREFIXES:
        if name.startswith(prefix):
            return replacement + name[len(prefix):]
    return name


class Field:
    def __init__(self, number, name, type_, repeated, optional, map_key=None):
        self.number, self.name, self.type, self.repeated = number, name, type_, repeated
        self.optional, self.map_key = optional, map_key
        self.pointer = False


FIELD = re.compile(r"^(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;")
MAP_FIELD = re.compile(r"^map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;")


def parse_proto(path):
    """Returns (package, {message name: [Field]}) with fields in declaration order."""
    text = re.sub(r"/\*.*?\*/", "", open(path, encoding="utf-8").read(), flags=re.S)
    package, messages, current, optional = None, {}, None, False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("//"):
            if re.match(r"//\s*\+optional\b", line):
                optional = True
            continue
        if not line:
            continue
        m = re.match(r"package\s+([\w.]+)\s*;", line)
        if m:
            package = m.group(1)
            continue
        m = re.match(r"message\s+(\w+)\s*\{", line)
        if m:
            current, optional = m.group(1), False
            messages[current] = []
            if line.endswith("}"):
                current = None
            continue
        if line == "}":
            current, optional = None, False
            continue
        if current is None:
            continue
        m = MAP_FIELD.match(line)
        if m:
            messages[current].append(Field(int(m.group(4)), m.group(3), m.group(2), False, optional, m.group(1)))
            optional = False
            continue
        m = FIELD.match(line)
        if m:
            messages[current].append(Field(int(m.group(4)), m.group(3), m.group(2), m.group(1) == "repeated", optional))
            optional = False
            continue
        raise SystemExit(f"{path}: cannot read {raw!r}")
    if package is None:
        raise SystemExit(f"{path}: no package")
    return package, messages


DEEPCOPY_FUNC = re.compile(r"^func \(in \*(\w+)\) DeepCopyInto\(out \*\w+\) \{\n(.*?)^\}", re.S | re.M)
POINTER = re.compile(r"in, out := &in\.(\w+), &out\.\w+\s*\n\s*\*out = new\(")


def parse_deepcopy(path):
    """{Go struct name: {lower-cased Go field name}} of fields that are pointers."""
    pointers = {}
    if not os.path.exists(path):
        return pointers
    for struct, body in DEEPCOPY_FUNC.findall(open(path, encoding="utf-8").read()):
        pointers.setdefault(struct, set()).update(name.lower() for name in POINTER.findall(body))
    return pointers


def load(root):
    messages = {}
    for directory, _, files in sorted(os.walk(root)):
        if "generated.proto" not in files:
            continue
        package, local = parse_proto(os.path.join(directory, "generated.proto"))
        pointers = parse_deepcopy(os.path.join(directory, "zz_generated.deepcopy.go"))
        for struct, names in pointers.items():
            known = {f.name.lower() for f in local.get(struct, [])}
            for missing in sorted(names - known):
                print(f"warning: {package}.{struct}.{missing} is a pointer in Go but not a proto field", file=sys.stderr)
        for name, fields in local.items():
            for f in fields:
                f.pointer = f.name.lower() in pointers.get(name, set())
            messages[f"{package}.{name}"] = (package, fields)
    return messages


def resolve(type_name, package, messages):
    if type_name in SCALARS:
        return type_name
    if type_name.startswith("."):
        return type_name[1:]
    if type_name in messages:
        return type_name
    candidate = f"{package}.{type_name}"
    if candidate in messages:
        return candidate
    raise SystemExit(f"unknown type {type_name} in package {package}")


def swift_type(type_name):
    return f".{type_name}" if type_name in SCALARS else f'.message("{short(type_name)}")'


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    messages = load(sys.argv[1])
    roots = [full for _, _, full in KINDS] + EXTRA_ROOTS
    reachable, queue = set(), list(roots)
    while queue:
        name = queue.pop()
        if name in reachable:
            continue
        if name not in messages:
            raise SystemExit(f"message {name} is reachable from the served kinds but not in the .proto files")
        reachable.add(name)
        package, fields = messages[name]
        for f in fields:
            for t in (f.type, f.map_key) if f.map_key else (f.type,):
                resolved = resolve(t, package, messages)
                if resolved not in SCALARS:
                    queue.append(resolved)
    for message, field in INLINE:
        if message in reachable and not any(f.name == field for f in messages[message][1]):
            raise SystemExit(f"INLINE names {message}.{field}, which the .proto does not have")

    out = ["// Generated by Scripts/generate-protobuf-schema.py from Kubernetes' generated.proto and",
           "// zz_generated.deepcopy.go files; do not edit. Field numbers, JSON names and types are the",
           "// Kubernetes API's wire format.", "", "extension ProtobufSchema {",
           "    static let generatedKinds: [ProtoKind] = ["]
    for api_version, kind, full in KINDS:
        out.append(f'        ProtoKind("{api_version}", "{kind}", "{short(full)}"),')
    # One statement per message: a single literal of all of them takes the type checker seconds.
    out += ["    ]", "", "    static let generatedMessages: [ProtoMessage] = {",
            "        var messages: [ProtoMessage] = []"]
    for name in sorted(reachable, key=short):
        package, fields = messages[name]
        out.append(f'        messages.append(ProtoMessage("{short(name)}", [')
        for f in fields:
            value = resolve(f.type, package, messages)
            flags = []
            if f.map_key:
                type_ = f".map({swift_type(resolve(f.map_key, package, messages))}, {swift_type(value)})"
            else:
                type_ = swift_type(value)
                if f.repeated:
                    flags.append(".repeated")
                elif value in SCALARS and (f.pointer or not f.optional):
                    flags.append(".keepsZero")
                if (name, f.name) in INLINE:
                    flags.append(".inline")
            # At most one flag applies (repeated, keepsZero for singular scalars, inline for singular
            # messages); a bare member instead of an array literal keeps type checking fast.
            assert len(flags) <= 1, (name, f.name, flags)
            suffix = f", {flags[0]}" if flags else ""
            out.append(f'            ProtoField({f.number}, "{f.name}", {type_}{suffix}),')
        out.append("        ]))")
    out += ["        return messages", "    }()", "}", ""]
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
