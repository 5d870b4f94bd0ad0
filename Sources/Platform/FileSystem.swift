import Foundation
import Glibc

/// Thin helpers over the file system whose errors name the call and the path.
public enum FileSystem {
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// `mkdir -p` with the given mode for the directories it creates.
    public static func createDirectory(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        if isDirectory(path) { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path, !isDirectory(parent) {
            try createDirectory(parent, mode: mode)
        }
        if mkdir(path, mode) != 0, errno != EEXIST {
            throw SystemError("mkdir", path: path)
        }
    }

    public static func readFile(_ path: String) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path: path)
            }
            if n == 0 { return result }
            result.append(contentsOf: buffer[0..<n])
        }
    }

    public static func readString(_ path: String) throws(SystemError) -> String {
        String(decoding: try readFile(path), as: UTF8.self)
    }

    /// Writes through a temporary file, fsyncs and renames, so readers see the old or the new
    /// contents, never a half-written file.
    /// Writes the whole buffer, retrying short writes and EINTR.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(SystemError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, base + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("write", path: path)
            }
            offset += n
        }
    }

    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(SystemError) {
        let temp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError("open", path: temp) }
        var failure: SystemError? = bytes.withUnsafeBytes { raw -> SystemError? in
            do throws(SystemError) { try writeAll(fd, raw, path: temp) } catch { return error }
            return nil
        }
        if failure == nil, fchmod(fd, mode) != 0 { failure = SystemError("fchmod", path: temp) }
        if failure == nil, fsync(fd) != 0 { failure = SystemError("fsync", path: temp) }
        close(fd)
        if failure == nil, rename(temp, path) != 0 { failure = SystemError("rename", path: path) }
        if let failure {
            unlink(temp)
            throw failure
        }
    }

    public static func writeAtomically(_ path: String, _ string: String, mode: mode_t = 0o644) throws(SystemError) {
        try writeAtomically(path, Array(string.utf8), mode: mode)
    }

    /// Truncates (or creates) and writes in place, without fsync: for small files that are
    /// rebuilt anyway (cgroup controls, a container's /etc files), on hot paths.
    public static func overwrite(_ path: String, _ string: String, mode: mode_t = 0o644) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        defer { close(fd) }
        let bytes = Array(string.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw SystemError("write \(string)", path: path) }
    }

    /// `rm -rf`: removes a file or a whole tree without following symlinks; a missing path is fine.
    public static func removeTree(_ path: String) throws(SystemError) {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT { return }
            throw SystemError("lstat", path: path)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let children = try listDirectory(path)
            for child in children { try removeTree(path + "/" + child) }
            if rmdir(path) != 0, errno != ENOENT { throw SystemError("rmdir", path: path) }
        } else if unlink(path) != 0, errno != ENOENT {
            throw SystemError("unlink", path: path)
        }
    }

    public static func listDirectory(_ path: String) throws(SystemError) -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw SystemError("opendir", path: path)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Total bytes of regular files under `path` (hard-linked files counted once).
    public static func diskUsage(_ path: String) -> Int64 {
        var seen = Set<UInt64>()
        func walk(_ p: String) -> Int64 {
            var st = stat()
            guard lstat(p, &st) == 0 else { return 0 }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                let children = (try? listDirectory(p)) ?? []
                return children.reduce(0) { $0 + walk(p + "/" + $1) }
            case S_IFREG:
                if st.st_nlink > 1 {
                    guard seen.insert(UInt64(st.st_ino)).inserted else { return 0 }
                }
                return Int64(st.st_size)
            case S_IFLNK:
                return Int64(st.st_size)
            default:
                return 0
            }
        }
        return walk(path)
    }
}

extension FileSystem {
    public static func readLink(_ path: String) throws(SystemError) -> String {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = buffer.withUnsafeMutableBytes { raw -> Int in
            guard let base = raw.baseAddress else { return -1 }
            return readlink(path, base.assumingMemoryBound(to: CChar.self), raw.count - 1)
        }
        guard n >= 0 else { throw SystemError("readlink", path: path) }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }
}
