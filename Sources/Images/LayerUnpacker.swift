import CArchive
import CLinux
import Glibc
import Platform

/// What unpacking a layer produced.
public struct UnpackedLayer: Sendable {
    /// sha256 of the uncompressed tar: must equal the config's diff_id.
    public var diffID: Digest
    /// Bytes of file content in the layer (Docker's layer size).
    public var size: Int64
}

/// Unpacks a layer tar (gzip, zstd or plain; libarchive detects which) into a directory meant to be
/// an overlayfs lower dir: whiteouts become 0/0 character devices, opaque markers become the
/// `trusted.overlay.opaque` xattr. Every path is resolved with openat and O_NOFOLLOW below the
/// layer's root, so entries with `..`, absolute paths or parents that are symlinks cannot write
/// outside it; such entries, and device nodes, fail the unpack.
public struct LayerUnpacker: Sendable {
    public init() {}

    public func unpack(
        blobPath: String, into directory: String, progress: ((Int64) -> Void)? = nil
    ) throws -> UnpackedLayer {
        let source = try DecompressedStream(path: blobPath)
        defer { source.close() }
        let tar = try TarReader(source: source)
        defer { tar.close() }
        let root = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw SystemError("open", path: directory) }
        defer { Glibc.close(root) }

        var writer = LayerWriter(root: root, rootPath: directory)
        defer { writer.closeCachedParent() }
        while let entry = try tar.nextEntry() {
            try writer.apply(entry, tar: tar)
            progress?(source.compressedBytesRead)
        }
        try writer.finishDirectories()
        try source.drain()
        return UnpackedLayer(diffID: Digest(sha256Hex: source.hexDigest()), size: writer.contentSize)
    }
}

/// The uncompressed bytes of a layer blob, hashed as they are read.
final class DecompressedStream {
    let path: String
    private var archive: OpaquePointer?
    private let hasher = SHA256Hasher()
    var buffer = [UInt8](repeating: 0, count: 1 << 17)

    init(path: String) throws {
        self.path = path
        guard let a = archive_read_new() else { throw OnekubeError(.internalError, "archive_read_new failed") }
        archive = a
        archive_read_support_filter_all(a)
        archive_read_support_format_raw(a)
        guard archive_read_open_filename(a, path, 1 << 17) == ARCHIVE_OK else {
            throw archiveError(a, "archive_read_open_filename")
        }
        var entry: OpaquePointer?
        let rc = archive_read_next_header(a, &entry)
        // An empty blob is an empty (invalid) layer; raw reports EOF at once.
        guard rc == ARCHIVE_OK else { throw archiveError(a, "reading layer \(path)") }
    }

    func archiveError(_ a: OpaquePointer, _ what: String) -> OnekubeError {
        let message = archive_error_string(a).map { String(cString: $0) } ?? "unknown error"
        return OnekubeError(.invalidArgument, "\(what): \(message)")
    }

    /// Reads up to `buffer.count` uncompressed bytes; 0 at the end.
    func read() throws -> Int {
        guard let a = archive else { return 0 }
        let n = buffer.withUnsafeMutableBytes { archive_read_data(a, $0.baseAddress, $0.count) }
        if n < 0 { throw archiveError(a, "decompressing layer \(path)") }
        if n > 0 { buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) } }
        return n
    }

    /// Reads what the tar reader left (end-of-archive padding), so the digest covers every byte.
    func drain() throws {
        while try read() > 0 {}
    }

    var compressedBytesRead: Int64 {
        guard let a = archive else { return 0 }
        return archive_filter_bytes(a, -1)
    }

    func hexDigest() -> String { hasher.finalizeHex() }

    func close() {
        if let a = archive { archive_read_free(a) }
        archive = nil
    }
}

/// A tar reader fed from a `DecompressedStream`.
final class TarReader {
    let source: DecompressedStream
    private(set) var archive: OpaquePointer?
    var failure: Error?

    init(source: DecompressedStream) throws {
        self.source = source
        guard let a = archive_read_new() else { throw OnekubeError(.internalError, "archive_read_new failed") }
        archive = a
        archive_read_support_format_tar(a)
        archive_read_support_format_gnutar(a)
        let context = Unmanaged.passUnretained(self).toOpaque()
        let rc = archive_read_open(a, context, nil, { _, context, bufferOut in
            guard let context else { return -1 }
            let reader = Unmanaged<TarReader>.fromOpaque(context).takeUnretainedValue()
            do {
                let n = try reader.source.read()
                reader.source.buffer.withUnsafeBytes { bufferOut?.pointee = $0.baseAddress }
                return n
            } catch {
                reader.failure = error
                return -1
            }
        }, nil)
        guard rc == ARCHIVE_OK else { throw failure ?? source.archiveError(a, "reading layer tar") }
    }

    struct Entry {
        let handle: OpaquePointer
        var pathname: String { archive_entry_pathname(handle).map { String(cString: $0) } ?? "" }
        var fileType: mode_t { archive_entry_filetype(handle) }
        var permissions: mode_t { archive_entry_perm(handle) }
        var uid: uid_t { uid_t(truncatingIfNeeded: archive_entry_uid(handle)) }
        var gid: gid_t { gid_t(truncatingIfNeeded: archive_entry_gid(handle)) }
        var size: Int64 { archive_entry_size(handle) }
        var symlinkTarget: String? { archive_entry_symlink(handle).map { String(cString: $0) } }
        var hardlinkTarget: String? { archive_entry_hardlink(handle).map { String(cString: $0) } }
        var rdevMajor: UInt32 { UInt32(archive_entry_rdevmajor(handle)) }
        var rdevMinor: UInt32 { UInt32(archive_entry_rdevminor(handle)) }
        var mtime: timespec {
            timespec(tv_sec: archive_entry_mtime(handle), tv_nsec: Int(archive_entry_mtime_nsec(handle)))
        }

        func xattrs() -> [(String, [UInt8])] {
            var result: [(String, [UInt8])] = []
            guard archive_entry_xattr_reset(handle) > 0 else { return result }
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while archive_entry_xattr_next(handle, &name, &value, &size) == ARCHIVE_OK {
                guard let name else { continue }
                let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                result.append((String(cString: name), bytes))
            }
            return result
        }
    }

    func nextEntry() throws -> Entry? {
        guard let a = archive else { return nil }
        var entry: OpaquePointer?
        let rc = archive_read_next_header(a, &entry)
        if rc == ARCHIVE_EOF { return nil }
        if let failure { throw failure }
        guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN, let entry else {
            throw source.archiveError(a, "reading layer tar")
        }
        return Entry(handle: entry)
    }

    /// Copies the current entry's data to `fd`, honouring sparse offsets.
    func copyData(to fd: Int32, path: String) throws {
        guard let a = archive else { return }
        var block: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        while true {
            let rc = archive_read_data_block(a, &block, &size, &offset)
            if rc == ARCHIVE_EOF { return }
            if let failure { throw failure }
            guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN else { throw source.archiveError(a, "reading \(path)") }
            guard let block, size > 0 else { continue }
            var written = 0
            while written < size {
                let n = pwrite(fd, block + written, size - written, off_t(offset) + off_t(written))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SystemError("write", path: path)
                }
                written += n
            }
        }
    }

    func close() {
        if let a = archive { archive_read_free(a) }
        archive = nil
    }
}

/// Applies tar entries below a directory file descriptor.
struct LayerWriter {
    let root: Int32
    let rootPath: String
    private(set) var contentSize: Int64 = 0
    private var directories: [(path: [String], mtime: timespec)] = []
    private var cachedParent: (path: [String], fd: Int32)?
    private let isRoot = geteuid() == 0

    init(root: Int32, rootPath: String) {
        self.root = root
        self.rootPath = rootPath
    }

    /// Splits an entry name into components below the root; `..` anywhere is refused.
    static func components(of name: String) throws -> [String] {
        var result: [String] = []
        for part in name.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                throw OnekubeError(.invalidArgument, "layer entry \"\(name)\" escapes the layer root (..)")
            }
            result.append(String(part))
        }
        return result
    }

    /// The overlayfs form of an OCI whiteout name, if it is one.
    enum Whiteout: Equatable {
        case opaque
        case remove(String)
    }

    static func whiteout(for base: String) throws -> Whiteout? {
        guard base.hasPrefix(".wh.") else { return nil }
        if base == ".wh..wh..opq" { return .opaque }
        let name = String(base.dropFirst(4))
        if name.isEmpty || name.hasPrefix(".wh.") {
            throw OnekubeError(.invalidArgument, "invalid whiteout entry \"\(base)\"")
        }
        return .remove(name)
    }

    mutating func apply(_ entry: TarReader.Entry, tar: TarReader) throws {
        let name = entry.pathname
        let parts = try Self.components(of: name)
        guard let base = parts.last else { return }  // the layer root itself
        let parentPath = Array(parts.dropLast())
        let parent = try openParent(parentPath, entryName: name)
        let display = parts.joined(separator: "/")

        if let whiteout = try Self.whiteout(for: base) {
            switch whiteout {
            case .opaque:
                let value: [UInt8] = [121]  // "y"
                let rc = value.withUnsafeBytes { fsetxattr(parent, "trusted.overlay.opaque", $0.baseAddress, 1, 0) }
                guard rc == 0 else { throw SystemError("setxattr trusted.overlay.opaque", path: rootPath + "/" + parentPath.joined(separator: "/")) }
            case .remove(let target):
                try removeExisting(parent, target, keepDirectory: false)
                guard mknodat(parent, target, S_IFCHR | 0o000, 0) == 0 else {
                    // containers/storage: /.wh.foo plus /foo/.wh.bar makes the second fail; tolerate.
                    if errno == ENOTDIR || errno == EEXIST { return }
                    throw SystemError("mknod whiteout", path: display)
                }
                try chown(parent, target, entry.uid, entry.gid, display: display)
            }
            return
        }

        if let link = entry.hardlinkTarget, !link.isEmpty {
            let targetParts = try Self.components(of: link)
            guard let targetBase = targetParts.last else {
                throw OnekubeError(.invalidArgument, "layer entry \"\(name)\" is a hard link to the layer root")
            }
            let targetParent = try walk(Array(targetParts.dropLast()), create: false, entryName: link)
            defer { Glibc.close(targetParent) }
            try removeExisting(parent, base, keepDirectory: false)
            guard linkat(targetParent, targetBase, parent, base, 0) == 0 else {
                throw SystemError("link \(link) ->", path: display)
            }
            return
        }

        switch entry.fileType {
        case S_IFDIR:
            try removeExisting(parent, base, keepDirectory: true)
            if mkdirat(parent, base, 0o700) != 0 && errno != EEXIST { throw SystemError("mkdir", path: display) }
            let fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError("open", path: display) }
            defer { Glibc.close(fd) }
            try setMetadata(fd: fd, entry: entry, display: display)
            directories.append((parts, entry.mtime))
        case S_IFREG:
            try removeExisting(parent, base, keepDirectory: false)
            let fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SystemError("create", path: display) }
            defer { Glibc.close(fd) }
            try tar.copyData(to: fd, path: display)
            guard ftruncate(fd, off_t(entry.size)) == 0 else { throw SystemError("ftruncate", path: display) }
            try setMetadata(fd: fd, entry: entry, display: display)
            var times = [entry.mtime, entry.mtime]
            futimens(fd, &times)
            contentSize += entry.size
        case S_IFLNK:
            try removeExisting(parent, base, keepDirectory: false)
            guard symlinkat(entry.symlinkTarget ?? "", parent, base) == 0 else { throw SystemError("symlink", path: display) }
            try chown(parent, base, entry.uid, entry.gid, display: display)
            var times = [entry.mtime, entry.mtime]
            utimensat(parent, base, &times, AT_SYMLINK_NOFOLLOW)
            contentSize += Int64(entry.symlinkTarget?.utf8.count ?? 0)
        case S_IFIFO:
            try removeExisting(parent, base, keepDirectory: false)
            guard mkfifoat(parent, base, 0o600) == 0 else { throw SystemError("mkfifo", path: display) }
            try chown(parent, base, entry.uid, entry.gid, display: display)
            guard fchmodat(parent, base, entry.permissions, 0) == 0 else { throw SystemError("chmod", path: display) }
        case S_IFCHR, S_IFBLK:
            throw OnekubeError(.invalidArgument, "layer entry \"\(name)\" is a device node (\(entry.rdevMajor):\(entry.rdevMinor)), which is not allowed in an image")
        default:
            return  // sockets and unknown types carry nothing worth keeping
        }
    }

    private func chown(_ parent: Int32, _ base: String, _ uid: uid_t, _ gid: gid_t, display: String) throws {
        if fchownat(parent, base, uid, gid, AT_SYMLINK_NOFOLLOW) != 0 && isRoot {
            throw SystemError("chown", path: display)
        }
    }

    private func setMetadata(fd: Int32, entry: TarReader.Entry, display: String) throws {
        if fchown(fd, entry.uid, entry.gid) != 0 && isRoot { throw SystemError("chown", path: display) }
        // After chown, which clears set-id bits.
        guard fchmod(fd, entry.permissions) == 0 else { throw SystemError("chmod", path: display) }
        for (name, value) in entry.xattrs() {
            let rc = value.withUnsafeBytes { fsetxattr(fd, name, $0.baseAddress, $0.count, 0) }
            if rc != 0 && errno != ENOTSUP && isRoot { throw SystemError("setxattr \(name)", path: display) }
        }
    }

    /// Makes room for a new entry: a directory may stay (dir over dir keeps its contents);
    /// anything else at that name is removed.
    private mutating func removeExisting(_ parent: Int32, _ base: String, keepDirectory: Bool) throws {
        var st = stat()
        guard fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            if keepDirectory { return }
            closeCachedParent()
            let fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError("open", path: base) }
            let path = "/proc/self/fd/\(fd)"
            let resolved = (try? FileSystem.readLink(path)) ?? ""
            Glibc.close(fd)
            guard resolved.hasPrefix(rootPath + "/") else {
                throw OnekubeError(.internalError, "refusing to remove \(base) outside the layer")
            }
            try FileSystem.removeTree(resolved)
        } else if unlinkat(parent, base, 0) != 0 {
            throw SystemError("unlink", path: base)
        }
    }

    private mutating func openParent(_ parts: [String], entryName: String) throws -> Int32 {
        if let cached = cachedParent, cached.path == parts { return cached.fd }
        closeCachedParent()
        let fd = try walk(parts, create: true, entryName: entryName)
        cachedParent = (parts, fd)
        return fd
    }

    mutating func closeCachedParent() {
        if let cached = cachedParent { Glibc.close(cached.fd) }
        cachedParent = nil
    }

    /// Opens the directory `parts` below the root, one component at a time, never following a
    /// symlink; missing directories are created when `create` is set.
    private func walk(_ parts: [String], create: Bool, entryName: String) throws -> Int32 {
        var fd = dup(root)
        guard fd >= 0 else { throw SystemError("dup", path: rootPath) }
        for part in parts {
            var next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(fd, part, 0o755) != 0 && errno != EEXIST {
                    let error = SystemError("mkdir", path: entryName)
                    Glibc.close(fd)
                    throw error
                }
                next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            if next < 0 {
                let err = errno
                Glibc.close(fd)
                if err == ELOOP || err == ENOTDIR {
                    throw OnekubeError(.invalidArgument, "layer entry \"\(entryName)\" escapes the layer root through the symlink or file \"\(part)\"")
                }
                throw SystemError("open", path: entryName, errno: err)
            }
            Glibc.close(fd)
            fd = next
        }
        return fd
    }

    /// Directory times last, deepest first: adding children changed them.
    mutating func finishDirectories() throws {
        closeCachedParent()
        for directory in directories.reversed() {
            let fd = try walk(directory.path, create: false, entryName: directory.path.joined(separator: "/"))
            var times = [directory.mtime, directory.mtime]
            futimens(fd, &times)
            Glibc.close(fd)
        }
    }
}
