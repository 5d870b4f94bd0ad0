import CZlib
import Glibc
import Images
import Platform

/// A layer blob written once, hashing both sides: the uncompressed tar (its diff_id) and the
/// gzip file (its digest in the manifest and the content store).
public struct WrittenLayerBlob: Sendable {
    public var diffID: Digest
    public var digest: Digest
    public var compressedSize: Int64
    public var uncompressedSize: Int64
}

final class GzipBlobWriter {
    let path: String
    private let fd: Int32
    private var stream = z_stream()
    private let uncompressedHash = SHA256Hasher()
    private let compressedHash = SHA256Hasher()
    private var output = [UInt8](repeating: 0, count: 1 << 16)
    private(set) var uncompressedSize: Int64 = 0
    private(set) var compressedSize: Int64 = 0
    private var finished = false

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        // Level 1: layers are built on every change; speed matters more than a few percent of size.
        guard cz_deflate_init_gzip(&stream, 1) == Z_OK else {
            close(fd)
            throw OnekubeError(.internalError, "deflateInit2 failed for \(path)")
        }
    }

    deinit {
        deflateEnd(&stream)
        close(fd)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty, let base = bytes.baseAddress else { return }
        uncompressedHash.update(bytes)
        uncompressedSize += Int64(bytes.count)
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(bytes.count)
        try pump(flush: Z_NO_FLUSH)
    }

    private func pump(flush: Int32) throws {
        repeat {
            let produced: Int = try output.withUnsafeMutableBytes { out in
                stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(out.count)
                let rc = deflate(&stream, flush)
                guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else {
                    throw OnekubeError(.internalError, "deflate failed (\(rc)) writing \(path)")
                }
                return out.count - Int(stream.avail_out)
            }
            if produced > 0 {
                try output.withUnsafeBytes { out in
                    let chunk = UnsafeRawBufferPointer(rebasing: out[0..<produced])
                    compressedHash.update(chunk)
                    try FileSystem.writeAll(fd, chunk, path: path)
                }
                compressedSize += Int64(produced)
            }
        } while stream.avail_out == 0 || (flush == Z_FINISH && stream.avail_in > 0)
    }

    func finish() throws -> WrittenLayerBlob {
        if !finished {
            finished = true
            stream.next_in = nil
            stream.avail_in = 0
            try pump(flush: Z_FINISH)
        }
        return WrittenLayerBlob(diffID: Digest(sha256Hex: uncompressedHash.finalizeHex()),
                                digest: Digest(sha256Hex: compressedHash.finalizeHex()),
                                compressedSize: compressedSize, uncompressedSize: uncompressedSize)
    }
}
