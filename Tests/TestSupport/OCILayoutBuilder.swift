import Foundation
import Platform

public enum LayerCompression: Sendable {
    case gzip, zstd, none

    var mediaType: String {
        switch self {
        case .gzip: return "application/vnd.oci.image.layer.v1.tar+gzip"
        case .zstd: return "application/vnd.oci.image.layer.v1.tar+zstd"
        case .none: return "application/vnd.oci.image.layer.v1.tar"
        }
    }
}

/// One layer for a test image: a directory tree (tarred as root-owned) or a ready tar file.
public struct LayerSource: Sendable {
    public enum Content: Sendable {
        case directory(String)
        case tarFile(String)
    }
    public var content: Content
    public var compression: LayerCompression

    public init(directory: String, compression: LayerCompression = .gzip) {
        content = .directory(directory)
        self.compression = compression
    }

    public init(tarFile: String, compression: LayerCompression = .gzip) {
        content = .tarFile(tarFile)
        self.compression = compression
    }
}

/// What the builder wrote.
public struct BuiltImage: Sendable {
    public var manifestDigest: String
    public var configDigest: String
    public var layerDigests: [String]
    public var diffIDs: [String]
    /// The digest a tag resolves to: the index when the image is multi-platform.
    public var topDigest: String
    public var layoutDirectory: String
    public var tag: String
}

/// Builds OCI image layouts (the format skopeo copies to registries) from directory trees, so
/// the tests never need the internet.
public enum OCILayoutBuilder {
    public static func build(
        layout: String, tag: String = "latest", layers: [LayerSource], cmd: [String]? = ["sh"],
        entrypoint: [String]? = nil, env: [String] = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        workingDir: String? = nil, exposedPorts: [String] = [], created: String = "2026-01-01T00:00:00Z",
        multiPlatform: Bool = false
    ) throws -> BuiltImage {
        let blobs = layout + "/blobs/sha256"
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        var layerDescriptors: [[String: Any]] = []
        var diffIDs: [String] = []
        var layerDigests: [String] = []
        for (index, layer) in layers.enumerated() {
            let tarPath = layout + "/layer-\(index).tar"
            switch layer.content {
            case .directory(let dir):
                try Run.checked("tar", ["--numeric-owner", "--owner=0", "--group=0", "--sort=name", "--mtime=@1700000000",
                                        "--xattrs", "-C", dir, "-cf", tarPath, "."])
            case .tarFile(let file):
                try Run.checked("cp", [file, tarPath])
            }
            let tarBytes = try FileSystem.readFile(tarPath)
            diffIDs.append("sha256:" + SHA256Hasher.hex(tarBytes))
            let compressed: [UInt8]
            switch layer.compression {
            case .gzip:
                try Run.checked("gzip", ["-n", "-f", tarPath])
                compressed = try FileSystem.readFile(tarPath + ".gz")
                try? FileManager.default.removeItem(atPath: tarPath + ".gz")
            case .zstd:
                try Run.checked("zstd", ["-q", "-f", "--rm", tarPath])
                compressed = try FileSystem.readFile(tarPath + ".zst")
                try? FileManager.default.removeItem(atPath: tarPath + ".zst")
            case .none:
                compressed = tarBytes
                try? FileManager.default.removeItem(atPath: tarPath)
            }
            let digest = try writeBlob(compressed, into: blobs)
            layerDigests.append(digest)
            layerDescriptors.append(["mediaType": layer.compression.mediaType, "digest": digest, "size": compressed.count])
        }
        var containerConfig: [String: Any] = ["Env": env]
        if let cmd { containerConfig["Cmd"] = cmd }
        if let entrypoint { containerConfig["Entrypoint"] = entrypoint }
        if let workingDir { containerConfig["WorkingDir"] = workingDir }
        if !exposedPorts.isEmpty { containerConfig["ExposedPorts"] = Dictionary(uniqueKeysWithValues: exposedPorts.map { ($0, [String: Any]()) }) }
        let config: [String: Any] = [
            "architecture": "amd64", "os": "linux", "created": created, "config": containerConfig,
            "rootfs": ["type": "layers", "diff_ids": diffIDs],
            "history": layers.indices.map { _ in ["created": created, "created_by": "onekube test fixture"] },
        ]
        let configBytes = try json(config)
        let configDigest = try writeBlob(configBytes, into: blobs)
        let manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": configDigest, "size": configBytes.count],
            "layers": layerDescriptors,
        ]
        let manifestBytes = try json(manifest)
        let manifestDigest = try writeBlob(manifestBytes, into: blobs)
        var top: [String: Any] = [
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifestDigest, "size": manifestBytes.count,
            "annotations": ["org.opencontainers.image.ref.name": tag],
        ]
        var topDigest = manifestDigest
        if multiPlatform {
            // An index like Docker Hub's: another platform first, then ours, then a BuildKit
            // attestation manifest (platform unknown/unknown) that pullers must skip.
            let statement = try json(["_type": "https://in-toto.io/Statement/v0.1"])
            let statementDigest = try writeBlob(statement, into: blobs)
            let emptyConfig = Array("{}".utf8)
            let emptyDigest = try writeBlob(emptyConfig, into: blobs)
            let attestation = try json([
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": emptyDigest, "size": emptyConfig.count],
                "layers": [["mediaType": "application/vnd.in-toto+json", "digest": statementDigest, "size": statement.count]],
            ])
            let attestationDigest = try writeBlob(attestation, into: blobs)
            let index: [String: Any] = [
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [
                    ["mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": attestationDigest, "size": attestation.count,
                     "platform": ["architecture": "arm64", "os": "linux", "variant": "v8"]],
                    ["mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifestDigest, "size": manifestBytes.count,
                     "platform": ["architecture": "amd64", "os": "linux"]],
                    ["mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": attestationDigest, "size": attestation.count,
                     "platform": ["architecture": "unknown", "os": "unknown"],
                     "annotations": ["vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": manifestDigest]],
                ],
            ]
            let indexBytes = try json(index)
            topDigest = try writeBlob(indexBytes, into: blobs)
            top = ["mediaType": "application/vnd.oci.image.index.v1+json", "digest": topDigest, "size": indexBytes.count,
                   "annotations": ["org.opencontainers.image.ref.name": tag]]
        }
        try FileSystem.writeAtomically(layout + "/index.json", json(["schemaVersion": 2, "manifests": [top]]))
        try FileSystem.writeAtomically(layout + "/oci-layout", json(["imageLayoutVersion": "1.0.0"]))
        return BuiltImage(manifestDigest: manifestDigest, configDigest: configDigest, layerDigests: layerDigests,
                          diffIDs: diffIDs, topDigest: topDigest, layoutDirectory: layout, tag: tag)
    }

    static func json(_ value: Any) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]))
    }

    static func writeBlob(_ bytes: [UInt8], into blobs: String) throws -> String {
        let hex = SHA256Hasher.hex(bytes)
        try FileSystem.writeAtomically(blobs + "/" + hex, bytes)
        return "sha256:" + hex
    }

    /// A root filesystem with Debian's static busybox and a few applets as hard links and symlinks,
    /// the way the official busybox image is made.
    public static func busyboxRoot(at root: String) throws {
        let fm = FileManager.default
        for dir in ["bin", "etc", "tmp", "root", "usr/bin"] {
            try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        let busybox = try Run.resolve("busybox")
        try fm.copyItem(atPath: busybox, toPath: root + "/bin/busybox")
        for applet in ["sh", "ls", "echo", "cat", "ps", "hostname", "sleep", "env", "id", "httpd", "nc", "wget", "true", "false",
                       "head", "tail", "mkdir", "stty", "tty", "mount", "kill", "ip", "wc", "grep", "uname", "whoami", "printf", "stat",
                       "test", "touch", "rm", "date", "nslookup"] {
            try fm.linkItem(atPath: root + "/bin/busybox", toPath: root + "/bin/" + applet)
        }
        try fm.createSymbolicLink(atPath: root + "/usr/bin/env", withDestinationPath: "/bin/busybox")
        try "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
            .write(toFile: root + "/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\nnogroup:x:65534:\n".write(toFile: root + "/etc/group", atomically: true, encoding: .utf8)
        chmod(root + "/tmp", 0o1777)
    }

    /// A tar with exactly these entries (hostile ones included), written by Tests/Fixtures/maketar.py.
    public static func writeTar(_ path: String, entries: [[String: Any]]) throws {
        let spec = String(decoding: try JSONSerialization.data(withJSONObject: entries), as: UTF8.self)
        try Run.checked("python3", [Fixtures.path("maketar.py"), path], stdin: spec)
    }
}

/// Files under Tests/Fixtures.
public enum Fixtures {
    public static func path(_ name: String) -> String {
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
    }

    /// The package's root directory.
    public static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
}
