import CArchive
import Platform

/// Reads a layer file (gzip, zstd, xz or plain tar; libarchive detects which) as its
/// uncompressed tar bytes.
enum LayerDecompressor {
    static func read(_ path: String, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let a = archive_read_new() else { throw OnekubeError(.internalError, "archive_read_new failed") }
        defer { archive_read_free(a) }
        archive_read_support_filter_all(a)
        archive_read_support_format_raw(a)
        guard archive_read_open_filename(a, path, 1 << 17) == ARCHIVE_OK else { throw TarExtractor.archiveError(a, "opening \(path)") }
        var entry: OpaquePointer?
        guard archive_read_next_header(a, &entry) == ARCHIVE_OK else { throw TarExtractor.archiveError(a, "reading \(path)") }
        var buffer = [UInt8](repeating: 0, count: 1 << 17)
        while true {
            let n = buffer.withUnsafeMutableBytes { archive_read_data(a, $0.baseAddress, $0.count) }
            if n < 0 { throw TarExtractor.archiveError(a, "decompressing \(path)") }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}
