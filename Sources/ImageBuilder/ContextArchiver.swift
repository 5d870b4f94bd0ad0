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
        if let extra { try addFile(extra.name, extra.content, to: tar) }
        try tar.finish()
        return bytes
    }

    /// A context of one file: `docker build - < Dockerfile` sends its Dockerfile so.
    public static func archive(file name: String, content: [UInt8]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        let tar = try TarWriter { bytes.append(contentsOf: $0) }
        try addFile(name, content, to: tar)
        try tar.finish()
        return bytes
    }

    private static func addFile(_ name: String, _ content: [UInt8], to tar: TarWriter) throws {
        var st = stat()
        st.st_mode = S_IFREG | 0o644
        st.st_size = Int(content.count)
        try tar.addBytes(name: name, content, stat: st)
    }

    /// The docker CLI's IsArchive on what stdin starts with: a compressed stream (gzip, bzip2,
    /// xz, zstd) or a tar header whose checksum holds.
    public static func isArchive(_ header: [UInt8]) -> Bool {
        let magics: [[UInt8]] = [[0x1f, 0x8b, 0x08], [0x42, 0x5a, 0x68], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], [0x28, 0xb5, 0x2f, 0xfd]]
        return magics.contains(where: { header.starts(with: $0) }) || isTarHeader(header)
    }

    /// Whether a 512-byte block is a tar header: its checksum holds.
    public static func isTarHeader(_ header: [UInt8]) -> Bool {
        guard header.count >= 512 else { return false }
        let field = header[148..<156].prefix { $0 != 0 && $0 != 0x20 }.drop { $0 == 0x20 }
        guard !field.isEmpty, let recorded = Int(String(decoding: field, as: UTF8.self), radix: 8) else { return false }
        let sum = header[0..<512].enumerated().reduce(0) { total, item in total + ((148..<156).contains(item.offset) ? 0x20 : Int(item.element)) }
        return sum == recorded
    }
}
