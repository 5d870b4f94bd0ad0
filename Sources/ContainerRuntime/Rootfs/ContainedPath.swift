import Glibc
import Platform

/// Resolves a path inside a root directory the way the container will see it: symlinks are
/// followed, but never out of the root (runc's securejoin). An image whose `/etc` is a symlink to
/// `/../../host` must not make a mount land on the host.
public enum ContainedPath {
    public static func resolve(_ path: String, in root: String, readLink: (String) -> String? = Self.symlinkTarget) -> String {
        var pending = path.split(separator: "/").map(String.init)
        var resolved: [String] = []
        var hops = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = root + "/" + (resolved + [component]).joined(separator: "/")
            if hops < 255, let target = readLink(candidate) {
                hops += 1
                if target.hasPrefix("/") { resolved = [] }
                pending = target.split(separator: "/").map(String.init) + pending
                continue
            }
            resolved.append(component)
        }
        return resolved.isEmpty ? root : root + "/" + resolved.joined(separator: "/")
    }

    public static func symlinkTarget(_ path: String) -> String? {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK else { return nil }
        return try? FileSystem.readLink(path)
    }
}
