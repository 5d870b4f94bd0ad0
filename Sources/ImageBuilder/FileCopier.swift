import ContainerRuntime
import Glibc
import Platform

/// Copies files into a mounted root file system the way COPY does: modes and times kept, owner
/// 0:0 unless `--chown`, symlinks copied as symlinks, missing parent directories made.
struct FileCopier {
    let root: String
    let owner: (uid: uid_t, gid: gid_t)

    /// The host path of `containerPath` inside the root, its symlinks followed within the root.
    func hostPath(_ containerPath: String) -> String {
        ContainedPath.resolve(containerPath, in: root)
    }

    /// `mkdir -p` inside the root; new directories get the copy's owner.
    func makeDirectories(_ containerPath: String) throws {
        var current = ""
        for element in containerPath.split(separator: "/") {
            current += "/" + element
            let path = hostPath(current)
            var st = stat()
            if stat(path, &st) == 0 {
                guard (st.st_mode & S_IFMT) == S_IFDIR else {
                    throw OnekubeError(.invalidArgument, "cannot create directory \(current): a file of that name exists")
                }
                continue
            }
            guard mkdir(path, 0o755) == 0 else { throw SystemError("mkdir", path: current) }
            guard lchown(path, owner.uid, owner.gid) == 0 else { throw SystemError("chown", path: current) }
        }
    }

    /// Copies `source` (a file, symlink or whole directory tree) to `containerPath`.
    func copy(from source: String, to containerPath: String) throws {
        var st = stat()
        guard lstat(source, &st) == 0 else { throw SystemError("lstat", path: source) }
        let type = st.st_mode & S_IFMT
        if type == S_IFDIR {
            try makeDirectories(containerPath)
            for name in try FileSystem.listDirectory(source).sorted() {
                try copy(from: source + "/" + name, to: containerPath + "/" + name)
            }
            let target = hostPath(containerPath)
            chmod(target, st.st_mode & 0o7777)
            try setTimes(target, st)
            return
        }
        let slash = containerPath.lastIndex(of: "/") ?? containerPath.startIndex
        let parent = String(containerPath[..<slash])
        if !parent.isEmpty { try makeDirectories(parent) }
        let target = hostPath(parent) + "/" + containerPath[containerPath.index(after: slash)...]
        var existing = stat()
        if lstat(target, &existing) == 0 {
            if (existing.st_mode & S_IFMT) == S_IFDIR {
                throw OnekubeError(.invalidArgument, "cannot copy to \(containerPath): it is a directory")
            }
            guard unlink(target) == 0 else { throw SystemError("unlink", path: containerPath) }
        }
        switch type {
        case S_IFLNK:
            guard symlink(try FileSystem.readLink(source), target) == 0 else { throw SystemError("symlink", path: containerPath) }
            guard lchown(target, owner.uid, owner.gid) == 0 else { throw SystemError("chown", path: containerPath) }
        case S_IFREG:
            try copyFile(source, to: target, stat: st, name: containerPath)
        default:
            // Sockets, fifos and devices are not copied (docker's tar-based copy skips them too).
            return
        }
    }

    private func copyFile(_ source: String, to target: String, stat st: stat, name: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard input >= 0 else { throw SystemError("open", path: source) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard output >= 0 else { throw SystemError("open", path: name) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path: source)
            }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try FileSystem.writeAll(output, UnsafeRawBufferPointer(rebasing: $0[0..<n]), path: name) }
        }
        guard fchown(output, owner.uid, owner.gid) == 0 else { throw SystemError("chown", path: name) }
        // After chown, which clears set-id bits.
        guard fchmod(output, st.st_mode & 0o7777) == 0 else { throw SystemError("chmod", path: name) }
        var times = [st.st_atim, st.st_mtim]
        guard futimens(output, &times) == 0 else { throw SystemError("futimens", path: name) }
    }

    private func setTimes(_ path: String, _ st: stat) throws {
        var times = [st.st_atim, st.st_mtim]
        guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw SystemError("utimensat", path: path) }
    }
}
