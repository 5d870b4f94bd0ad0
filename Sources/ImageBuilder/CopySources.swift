import ContainerRuntime
import Glibc
import Platform

/// A file or directory a COPY or ADD takes, found below a root (the build context, or a stage's
/// file system for `COPY --from`).
struct CopySource: Sendable {
    /// The host path.
    var path: String
    /// Its path relative to the root.
    var relative: String
    var isDirectory: Bool
    /// Fetched by ADD from a URL (never unpacked).
    var downloaded = false
}

enum CopySources {
    /// Resolves COPY's source arguments below `root` as the legacy builder does: paths are relative
    /// to the root whatever their leading `/`, may not climb out of it, and may be globs.
    static func resolve(_ arguments: [String], root: String, instruction: String) throws -> [CopySource] {
        var sources: [CopySource] = []
        for argument in arguments {
            guard let relative = cleanRelative(argument) else {
                throw OnekubeError(.invalidArgument, "\(instruction) failed: forbidden path outside the build context: \(argument) ()")
            }
            if argument.contains(where: { "*?[".contains($0) }) {
                var matched: [CopySource] = []
                try DirectoryWalker.walk(root) { rel, path, st in
                    if fnmatch(relative, rel, FNM_PATHNAME) == 0 {
                        matched.append(CopySource(path: path, relative: rel, isDirectory: (st.st_mode & S_IFMT) == S_IFDIR))
                        return false
                    }
                    return true
                }
                sources += matched
                continue
            }
            let path = relative.isEmpty ? root : root + "/" + relative
            // The source itself must not be a symlink leading out of the root.
            let resolved = ContainedPath.resolve(relative, in: root)
            var st = stat()
            guard stat(resolved, &st) == 0 else {
                throw OnekubeError(.notFound, "\(instruction) failed: file not found in build context or excluded by .dockerignore: stat \(relative.isEmpty ? "." : relative): file does not exist")
            }
            sources.append(CopySource(path: resolved == path ? path : resolved, relative: relative, isDirectory: (st.st_mode & S_IFMT) == S_IFDIR))
        }
        if sources.isEmpty {
            throw OnekubeError(.invalidArgument, "\(instruction) failed: no source files were specified")
        }
        return sources
    }

    /// `./a/../b/` → `b`; nil when the path climbs above the root.
    static func cleanRelative(_ path: String) -> String? {
        var parts: [Substring] = []
        for element in path.split(separator: "/") where element != "." && !element.isEmpty {
            if element == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            } else {
                parts.append(element)
            }
        }
        return parts.joined(separator: "/")
    }

    /// A digest of everything the sources would copy (names, modes, link targets, contents): the
    /// part of a COPY's cache key that changes when a file in the context does.
    static func checksum(_ sources: [CopySource]) throws -> String {
        let hasher = SHA256Hasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        func add(_ path: String, _ name: String, _ st: stat) throws {
            let type = st.st_mode & S_IFMT
            hasher.update("\(name)\0\(st.st_mode)\0")
            if type == S_IFLNK {
                hasher.update(try FileSystem.readLink(path) + "\0")
            } else if type == S_IFREG {
                hasher.update("\(st.st_size)\0")
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw SystemError("open", path: path) }
                defer { close(fd) }
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n < 0 { if errno == EINTR { continue }; throw SystemError("read", path: path) }
                    if n == 0 { break }
                    buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                }
            }
        }
        for source in sources {
            var st = stat()
            guard stat(source.path, &st) == 0 else { throw SystemError("stat", path: source.path) }
            try add(source.path, source.relative, st)
            if source.isDirectory {
                try DirectoryWalker.walk(source.path) { rel, path, st in
                    try add(path, source.relative + "/" + rel, st)
                    return true
                }
            }
        }
        return hasher.finalizeHex()
    }
}
