import CArchive
import Glibc
import Platform

/// A tar stream written with libarchive (PAX, as docker writes layers) to a sink closure.
final class TarWriter {
    private var archive: OpaquePointer?
    let sink: (UnsafeRawBufferPointer) throws -> Void
    private var failure: Error?
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    init(sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        self.sink = sink
        guard let a = archive_write_new() else { throw OnekubeError(.internalError, "archive_write_new failed") }
        archive = a
        archive_write_set_format_pax_restricted(a)
        // No padding to 10 KiB records: the stream is hashed and its length matters to nobody.
        archive_write_set_bytes_in_last_block(a, 1)
        let context = Unmanaged.passUnretained(self).toOpaque()
        let rc = archive_write_open(a, context, nil, { _, context, data, length in
            guard let context, let data else { return -1 }
            let writer = Unmanaged<TarWriter>.fromOpaque(context).takeUnretainedValue()
            do {
                try writer.sink(UnsafeRawBufferPointer(start: data, count: length))
                return length
            } catch {
                writer.failure = error
                return -1
            }
        }, nil)
        guard rc == ARCHIVE_OK else { throw error("archive_write_open") }
    }

    deinit {
        if let archive { archive_write_free(archive) }
    }

    func error(_ what: String) -> Error {
        if let failure { return failure }
        let message = archive.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "unknown error"
        return OnekubeError(.internalError, "\(what): \(message)")
    }

    /// An entry from a file's `lstat`, its content read from `path` for regular files.
    func add(name: String, path: String, stat st: stat, hardlinkTarget: String? = nil,
             uid: uid_t? = nil, gid: gid_t? = nil) throws {
        guard let a = archive, let entry = archive_entry_new() else { throw OnekubeError(.internalError, "archive_entry_new failed") }
        defer { archive_entry_free(entry) }
        var st = st
        archive_entry_copy_stat(entry, &st)
        archive_entry_set_pathname(entry, name)
        archive_entry_set_uname(entry, "")
        archive_entry_set_gname(entry, "")
        if let uid { archive_entry_set_uid(entry, la_int64_t(uid)) }
        if let gid { archive_entry_set_gid(entry, la_int64_t(gid)) }
        let type = st.st_mode & S_IFMT
        if let hardlinkTarget {
            archive_entry_set_hardlink(entry, hardlinkTarget)
            archive_entry_set_size(entry, 0)
        } else if type == S_IFLNK {
            archive_entry_set_symlink(entry, try FileSystem.readLink(path))
        } else if type != S_IFREG {
            archive_entry_set_size(entry, 0)
        }
        guard archive_write_header(a, entry) == ARCHIVE_OK else { throw error("writing tar header for \(name)") }
        if type == S_IFREG && hardlinkTarget == nil && st.st_size > 0 {
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { throw SystemError("open", path: path) }
            defer { close(fd) }
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SystemError("read", path: path)
                }
                if n == 0 { break }
                let written = buffer.withUnsafeBytes { archive_write_data(a, $0.baseAddress, n) }
                guard written == n else { throw error("writing \(name) into the tar") }
            }
        }
    }

    /// A regular file whose content is in memory.
    func addBytes(name: String, _ bytes: [UInt8], stat st: stat) throws {
        guard let a = archive, let entry = archive_entry_new() else { throw OnekubeError(.internalError, "archive_entry_new failed") }
        defer { archive_entry_free(entry) }
        var st = st
        archive_entry_copy_stat(entry, &st)
        archive_entry_set_pathname(entry, name)
        guard archive_write_header(a, entry) == ARCHIVE_OK else { throw error("writing tar header for \(name)") }
        let written = bytes.withUnsafeBytes { archive_write_data(a, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw error("writing \(name) into the tar") }
    }

    /// An empty regular file (OCI whiteouts).
    func addEmptyFile(name: String, mode: mode_t, mtime: Int) throws {
        guard let a = archive, let entry = archive_entry_new() else { throw OnekubeError(.internalError, "archive_entry_new failed") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_filetype(entry, UInt32(Glibc.S_IFREG))
        archive_entry_set_perm(entry, mode)
        archive_entry_set_size(entry, 0)
        archive_entry_set_mtime(entry, mtime, 0)
        guard archive_write_header(a, entry) == ARCHIVE_OK else { throw error("writing tar header for \(name)") }
    }

    func finish() throws {
        guard let a = archive else { return }
        guard archive_write_close(a) == ARCHIVE_OK else { throw error("closing the tar") }
    }
}

/// Walks a directory tree depth-first in name order (a stable tar for a stable tree), giving each
/// entry's path relative to the root and its `lstat`.
public enum DirectoryWalker {
    public static func walk(_ root: String, relative: String = "",
                     _ visit: (_ relative: String, _ path: String, _ stat: stat) throws -> Bool) throws {
        let directory = relative.isEmpty ? root : root + "/" + relative
        for name in try FileSystem.listDirectory(directory).sorted() {
            let rel = relative.isEmpty ? name : relative + "/" + name
            let path = root + "/" + rel
            var st = stat()
            guard lstat(path, &st) == 0 else { throw SystemError("lstat", path: path) }
            let descend = try visit(rel, path, st)
            if descend && (st.st_mode & S_IFMT) == S_IFDIR {
                try walk(root, relative: rel, visit)
            }
        }
    }
}

/// Hard links within one tar: later names of an inode become links to its first name.
struct HardlinkTable {
    private var first: [String: String] = [:]

    mutating func target(for st: stat, name: String) -> String? {
        guard (st.st_mode & S_IFMT) == S_IFREG, st.st_nlink > 1 else { return nil }
        let key = "\(st.st_dev):\(st.st_ino)"
        if let existing = first[key] { return existing }
        first[key] = name
        return nil
    }
}
