import Foundation
import CLinux
import Glibc
import Logging
import Platform
import TestSupport
import Testing
@testable import Images

@Suite("Unpacking layers for overlayfs")
struct LayerUnpackerTests {
    @Test("whiteout names", arguments: [
        (".wh.foo", LayerWriter.Whiteout.remove("foo")), (".wh..wh..opq", .opaque), (".wh.a.b", .remove("a.b")),
    ])
    func whiteoutNames(name: String, expected: LayerWriter.Whiteout) throws {
        #expect(try LayerWriter.whiteout(for: name) == expected)
    }

    @Test func ordinaryNamesAreNotWhiteouts() throws {
        #expect(try LayerWriter.whiteout(for: "foo") == nil)
        #expect(try LayerWriter.whiteout(for: "wh.foo") == nil)
        #expect(throws: OnekubeError.self) { try LayerWriter.whiteout(for: ".wh.") }
    }

    @Test("entry names stay below the root", arguments: [
        ("./a/./b", ["a", "b"]), ("/abs/x", ["abs", "x"]), ("a//b/", ["a", "b"]), ("./", []),
    ])
    func components(name: String, expected: [String]) throws {
        #expect(try LayerWriter.components(of: name) == expected)
    }

    @Test("dot-dot is refused", arguments: ["../evil", "a/../../b", "a/.."])
    func dotDot(name: String) {
        #expect(throws: OnekubeError.self) { try LayerWriter.components(of: name) }
    }

    /// Unpacks a tar built from `entries`, returning the layer directory.
    func unpack(_ entries: [[String: Any]], in scratch: TemporaryDirectory) throws -> (String, UnpackedLayer) {
        let tar = scratch.path + "/layer.tar"
        try OCILayoutBuilder.writeTar(tar, entries: entries)
        let dir = try scratch.sub("out")
        let result = try LayerUnpacker().unpack(blobPath: tar, into: dir)
        #expect(result.diffID.hex == SHA256Hasher.hex(try FileSystem.readFile(tar)))
        return (dir, result)
    }

    @Test func whiteoutsBecomeOverlayfsWhiteouts() throws {
        let scratch = try TemporaryDirectory()
        let (dir, result) = try unpack([
            ["name": "etc", "type": "dir"], ["name": "etc/.wh.motd", "data": ""],
            ["name": "etc/app", "type": "dir"], ["name": "etc/app/.wh..wh..opq", "data": ""],
            ["name": "etc/app/new", "data": "fresh\n"],
            ["name": "bin", "type": "dir"], ["name": "bin/tool", "data": "#!/bin/sh\n", "mode": 0o4755],
            ["name": "bin/alias", "type": "hardlink", "target": "bin/tool"],
            ["name": "bin/link", "type": "symlink", "target": "/bin/tool"],
        ], in: scratch)
        var st = stat()
        #expect(lstat(dir + "/etc/motd", &st) == 0)
        #expect((st.st_mode & S_IFMT) == S_IFCHR)
        #expect(st.st_rdev == 0)
        #expect(!FileManager.default.fileExists(atPath: dir + "/etc/.wh.motd"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/etc/app/.wh..wh..opq"))
        var value = [UInt8](repeating: 0, count: 8)
        let n = getxattr(dir + "/etc/app", "trusted.overlay.opaque", &value, value.count)
        #expect(n == 1 && value[0] == UInt8(ascii: "y"))
        #expect(try String(contentsOfFile: dir + "/etc/app/new", encoding: .utf8) == "fresh\n")
        var tool = stat(), alias = stat()
        stat(dir + "/bin/tool", &tool)
        stat(dir + "/bin/alias", &alias)
        #expect(tool.st_ino == alias.st_ino)
        #expect(tool.st_mode & 0o7777 == 0o4755)
        #expect(try FileSystem.readLink(dir + "/bin/link") == "/bin/tool")
        #expect(result.size == Int64("#!/bin/sh\n".utf8.count + "fresh\n".utf8.count + "/bin/tool".utf8.count))
    }

    @Test("hostile layers are refused", arguments: [
        (#"[{"name": "../evil", "data": "x"}]"#, "escapes the layer root"),
        (#"[{"name": "link", "type": "symlink", "target": "OUTSIDE"}, {"name": "link/pwned", "data": "x"}]"#, "escapes the layer root through the symlink"),
        (#"[{"name": "up", "type": "symlink", "target": "../../.."}, {"name": "up/etc/pwned", "data": "x"}]"#, "escapes the layer root through the symlink"),
        (#"[{"name": "dev/sda", "type": "block", "major": 8, "minor": 0}]"#, "device node"),
        (#"[{"name": "dev/null", "type": "char", "major": 1, "minor": 3}]"#, "device node"),
        (#"[{"name": "hl", "type": "hardlink", "target": "../../etc/passwd"}]"#, "escapes the layer root"),
    ])
    func hostile(spec: String, message: String) throws {
        let scratch = try TemporaryDirectory()
        let outside = try scratch.sub("outside-canary")
        let json = spec.replacingOccurrences(of: "OUTSIDE", with: outside)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        do {
            _ = try unpack(entries, in: scratch)
            Issue.record("unpacking \(spec) succeeded")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
        #expect(try FileSystem.listDirectory(outside).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "/etc/pwned"))
    }

    @Test func failedUnpackLeavesNothingInTheLayerStore() async throws {
        let scratch = try TemporaryDirectory()
        let tar = scratch.path + "/bad.tar"
        try OCILayoutBuilder.writeTar(tar, entries: [["name": "ok", "data": "fine"], ["name": "../evil", "data": "x"]])
        let store = try LayerStore(root: try scratch.sub("layers"))
        let chain = Digest(sha256Hex: String(repeating: "1", count: 64))
        await #expect(throws: OnekubeError.self) {
            try await store.unpack(blob: tar, chainID: chain, expectedDiffID: chain) { _ in }
        }
        #expect(try FileSystem.listDirectory(store.root).isEmpty)
        #expect(!store.contains(chain))
    }

    @Test func diffIDMismatchIsRefused() async throws {
        let scratch = try TemporaryDirectory()
        let tar = scratch.path + "/ok.tar"
        try OCILayoutBuilder.writeTar(tar, entries: [["name": "ok", "data": "fine"]])
        try Run.checked("gzip", ["-k", tar])
        let store = try LayerStore(root: try scratch.sub("layers"))
        let wrong = Digest(sha256Hex: String(repeating: "2", count: 64))
        await #expect(throws: OnekubeError.self) {
            try await store.unpack(blob: tar + ".gz", chainID: wrong, expectedDiffID: wrong) { _ in }
        }
        #expect(try FileSystem.listDirectory(store.root).isEmpty)
        let right = Digest(sha256Hex: SHA256Hasher.hex(try FileSystem.readFile(tar)))
        try await store.unpack(blob: tar + ".gz", chainID: right, expectedDiffID: right) { _ in }
        #expect(try String(contentsOfFile: store.path(right) + "/ok", encoding: .utf8) == "fine")
        #expect(try store.size(right) == 4)
    }
}
