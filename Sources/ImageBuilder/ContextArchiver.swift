import Glibc
import Platform

/// The build context the docker CLI sends: the directory as a tar with `.dockerignore` applied
/// (the Dockerfile and `.dockerignore` always go), owners 0:0, paths relative to the context.
public enum ContextArchiver {
    /// `dockerfile` is the Dockerfile's path relative to the context, or nil when it lies outside
    /// and is added under `extraName` with `extraContent`.
    public static func archive(directory: String, dockerfile: String?, extra: (name: String, content: [UInt8])? = nil) throws -> [UInt8] {
        let ignore = try (try? FileSystem.readString(directory + "/.dockerignore")).map { try DockerIgnore($0) } ?? DockerIgnore("")
        var bytes: [UInt8] = []
        let tar = try TarWriter { bytes.append(contentsOf: $0) }
        var links = HardlinkTable()
        let alwaysSent = Set([".dockerignore"] + (dockerfile.map { [$0] } ?? []))
        try DirectoryWalker.walk(directory) { relative, path, st in
            let type = st.st_mode & S_IFMT
            if ignore.excludes(relative) && !alwaysSent.contains(relative) {
                // A `!` pattern may bring back something inside an excluded directory.
                return type == S_IFDIR && ignore.hasExceptions
            }
            guard type == S_IFREG || type == S_IFDIR || type == S_IFLNK else { return false }
            try tar.add(name: type == S_IFDIR ? relative + "/" : relative, path: path, stat: st,
                        hardlinkTarget: links.target(for: st, name: relative), uid: 0, gid: 0)
            return true
        }
        if let extra {
            var st = stat()
            st.st_mode = S_IFREG | 0o644
            st.st_size = Int(extra.content.count)
            try tar.addBytes(name: extra.name, extra.content, stat: st)
        }
        try tar.finish()
        return bytes
    }
}
