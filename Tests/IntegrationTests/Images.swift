import Foundation
import TestSupport

/// Test images built from Debian's static busybox, as OCI layouts.
enum TestImage {
    static func busybox(in scratch: TemporaryDirectory, multiPlatform: Bool = false, tag: String = "latest") throws -> BuiltImage {
        let root = try scratch.sub("busybox-root-\(UUID().uuidString.prefix(6))")
        try OCILayoutBuilder.busyboxRoot(at: root)
        return try OCILayoutBuilder.build(layout: try scratch.sub("busybox-layout-\(UUID().uuidString.prefix(6))"), tag: tag,
                                          layers: [LayerSource(directory: root)], multiPlatform: multiPlatform)
    }

    /// Two layers: busybox plus files, then (zstd) whiteouts of a file and an opaque directory.
    static func layered(in scratch: TemporaryDirectory) throws -> BuiltImage {
        let lower = try scratch.sub("lower")
        try OCILayoutBuilder.busyboxRoot(at: lower)
        try FileManager.default.createDirectory(atPath: lower + "/etc/app", withIntermediateDirectories: true)
        try "old motd\n".write(toFile: lower + "/etc/motd", atomically: true, encoding: .utf8)
        try "a\n".write(toFile: lower + "/etc/app/a", atomically: true, encoding: .utf8)
        let upper = try scratch.sub("upper")
        try FileManager.default.createDirectory(atPath: upper + "/etc/app", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: upper + "/etc/.wh.motd", contents: Data())
        _ = FileManager.default.createFile(atPath: upper + "/etc/app/.wh..wh..opq", contents: Data())
        try "b\n".write(toFile: upper + "/etc/app/b", atomically: true, encoding: .utf8)
        return try OCILayoutBuilder.build(layout: try scratch.sub("layered-layout"), layers: [
            LayerSource(directory: lower, compression: .gzip), LayerSource(directory: upper, compression: .zstd),
        ])
    }
}

extension ProcessResult {
    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
}

func json(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8))
}
