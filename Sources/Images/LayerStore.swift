import Foundation
import Glibc
import Logging
import Platform

/// Unpacked layers, one directory per chain ID under `layers/`, shared by every image whose stack
/// starts the same way; each is ready to be an overlayfs lower dir. A layer is unpacked into a
/// temporary directory and renamed into place only when its diff_id verified.
public final class LayerStore: Sendable {
    public let root: String
    let unpacker = LayerUnpacker()

    public init(root: String) throws {
        self.root = root
        try FileSystem.createDirectory(root, mode: 0o700)
    }

    /// chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)).
    public static func chainIDs(_ diffIDs: [Digest]) -> [Digest] {
        var result: [Digest] = []
        for diffID in diffIDs {
            if let previous = result.last {
                result.append(Digest(sha256Hex: SHA256Hasher.hex("\(previous) \(diffID)")))
            } else {
                result.append(diffID)
            }
        }
        return result
    }

    public func path(_ chainID: Digest) -> String { "\(root)/\(chainID.hex)" }

    public func contains(_ chainID: Digest) -> Bool { FileSystem.isDirectory(path(chainID)) }

    /// The layer's content size, recorded beside it when it was unpacked.
    public func size(_ chainID: Digest) throws -> Int64 {
        let text = (try? FileSystem.readString("\(root)/\(chainID.hex).size")) ?? "0"
        return Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    public func unpack(
        blob: String, chainID: Digest, expectedDiffID: Digest, progress: @escaping @Sendable (Int64) -> Void
    ) async throws {
        let temp = "\(root)/.tmp-\(chainID.hex)-\(UInt32.random(in: 0...UInt32.max))"
        let final = path(chainID)
        let unpacker = self.unpacker
        let root = self.root
        try await onDedicatedThread(name: "onekube-unpack") {
            try FileSystem.createDirectory(temp, mode: 0o755)
            do {
                let result = try unpacker.unpack(blobPath: blob, into: temp, progress: progress)
                guard result.diffID == expectedDiffID else {
                    throw OnekubeError(.digestMismatch, "layer diff ID mismatch: config says \(expectedDiffID), layer content is \(result.diffID)")
                }
                try FileSystem.writeAtomically("\(root)/\(chainID.hex).size", "\(result.size)\n")
                guard rename(temp, final) == 0 else { throw SystemError("rename", path: final) }
            } catch {
                try? FileSystem.removeTree(temp)
                throw error
            }
        }
    }

    public func delete(_ chainID: Digest) throws {
        try FileSystem.removeTree(path(chainID))
        unlink("\(root)/\(chainID.hex).size")
    }

    public func allChainIDs() -> [Digest] {
        ((try? FileSystem.listDirectory(root)) ?? []).compactMap { name in
            name.count == 64 && !name.contains(".") ? Digest(sha256Hex: name) : nil
        }
    }

    /// Unpacks interrupted by a crash.
    public func removeTemporaries() {
        for name in (try? FileSystem.listDirectory(root)) ?? [] where name.hasPrefix(".tmp-") {
            try? FileSystem.removeTree("\(root)/\(name)")
        }
    }
}
