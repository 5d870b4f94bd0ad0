import CLinux
import Glibc
import Images
import Platform

/// Turns an overlayfs upper directory into an OCI layer blob (gzip tar): overlay whiteouts (0/0
/// character devices) become `.wh.<name>` files and opaque directories (`trusted.overlay.opaque`
/// = `y`) get a `.wh..wh..opq` entry, the forms LayerUnpacker turns back into overlay markers.
public enum LayerArchiver {
    public static func archive(upperDirectory: String, to blobPath: String) throws -> WrittenLayerBlob {
        let gzip = try GzipBlobWriter(path: blobPath)
        let tar = try TarWriter { try gzip.write($0) }
        var links = HardlinkTable()
        try DirectoryWalker.walk(upperDirectory) { relative, path, st in
            let type = st.st_mode & S_IFMT
            if type == S_IFCHR && st.st_rdev == 0 {
                let slash = relative.lastIndex(of: "/")
                let parent = slash.map { String(relative[..<$0]) + "/" } ?? ""
                let base = slash.map { String(relative[relative.index(after: $0)...]) } ?? relative
                try tar.addEmptyFile(name: parent + ".wh." + base, mode: 0, mtime: st.st_mtim.tv_sec)
                return false
            }
            try tar.add(name: type == S_IFDIR ? relative + "/" : relative, path: path, stat: st,
                        hardlinkTarget: links.target(for: st, name: relative))
            if type == S_IFDIR && isOpaque(path) {
                try tar.addEmptyFile(name: relative + "/.wh..wh..opq", mode: 0, mtime: st.st_mtim.tv_sec)
            }
            return true
        }
        try tar.finish()
        return try gzip.finish()
    }

    static func isOpaque(_ path: String) -> Bool {
        var value: [UInt8] = [0, 0]
        let n = lgetxattr(path, "trusted.overlay.opaque", &value, value.count)
        return n == 1 && value[0] == UInt8(ascii: "y")
    }
}
