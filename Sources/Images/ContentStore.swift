import Glibc
import Platform

/// Content-addressed blobs under `blobs/sha256/<hex>`. Downloads go to `blobs/ingest/<hex>.partial`
/// (kept across attempts for resume) and are renamed into place only after verification, so a
/// digest path never holds partial or unverified bytes.
public final class ContentStore: Sendable {
    public let root: String

    public init(root: String) throws {
        self.root = root
        try FileSystem.createDirectory(root + "/sha256", mode: 0o700)
        try FileSystem.createDirectory(root + "/ingest", mode: 0o700)
    }

    public func path(_ digest: Digest) -> String { "\(root)/\(digest.algorithm)/\(digest.hex)" }

    public func ingestPath(_ digest: Digest) -> String { "\(root)/ingest/\(digest.hex).partial" }

    public func contains(_ digest: Digest) -> Bool { FileSystem.exists(path(digest)) }

    /// Moves a verified download into place.
    public func commitIngest(_ digest: Digest) throws {
        guard rename(ingestPath(digest), path(digest)) == 0 else {
            throw SystemError("rename", path: ingestPath(digest))
        }
    }

    /// Stores small content (manifests, configs) after checking it hashes to `digest`.
    public func write(_ bytes: [UInt8], digest: Digest) throws {
        guard Digest.sha256(of: bytes) == digest else {
            throw OnekubeError(.digestMismatch, "content does not match digest \(digest)")
        }
        if contains(digest) { return }
        try FileSystem.writeAtomically(path(digest), bytes, mode: 0o600)
    }

    public func read(_ digest: Digest) throws -> [UInt8] {
        try FileSystem.readFile(path(digest))
    }

    public func delete(_ digest: Digest) {
        unlink(path(digest))
    }

    public func allDigests() -> [Digest] {
        ((try? FileSystem.listDirectory(root + "/sha256")) ?? []).compactMap { name in
            name.count == 64 ? Digest(sha256Hex: name) : nil
        }
    }

    /// Partial downloads of blobs nobody is fetching any more (kept only while a pull may resume).
    public func removeIngests(except keep: Set<Digest>) {
        for name in (try? FileSystem.listDirectory(root + "/ingest")) ?? [] {
            let hex = name.split(separator: ".").first.map(String.init) ?? ""
            if !keep.contains(Digest(sha256Hex: hex)) { unlink(root + "/ingest/" + name) }
        }
    }
}
