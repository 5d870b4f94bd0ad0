import CLinux
import Foundation
import Glibc
import Images
import Platform
import Testing
@testable import ImageBuilder

/// An overlay upper directory as the kernel leaves it, turned into an OCI layer (needs root for
/// the 0/0 device and the trusted xattr, as the runtime itself does).
@Suite struct LayerArchiverTests {
    @Test func whiteoutsAndOpaqueDirectoriesBecomeOCIEntries() throws {
        let root = NSTemporaryDirectory() + "onekube-archiver-\(UUID().uuidString)"
        defer { try? FileSystem.removeTree(root) }
        let upper = root + "/upper"
        try FileSystem.createDirectory(upper + "/etc/app", mode: 0o755)
        try FileSystem.writeAtomically(upper + "/etc/app/new.conf", "b\n")
        try FileSystem.writeAtomically(upper + "/hello", "hello\n")
        link(upper + "/hello", upper + "/hello-again")
        #expect(mknod(upper + "/etc/motd", S_IFCHR, 0) == 0, "mknod: \(errno)")
        let yes: [UInt8] = [UInt8(ascii: "y")]
        #expect(setxattr(upper + "/etc/app", "trusted.overlay.opaque", yes, 1, 0) == 0, "setxattr: \(errno)")

        let blob = root + "/layer.tar.gz"
        let written = try LayerArchiver.archive(upperDirectory: upper, to: blob)
        let bytes = try FileSystem.readFile(blob)
        #expect(written.digest == Digest.sha256(of: bytes))
        #expect(written.compressedSize == Int64(bytes.count))

        var uncompressed: [UInt8] = []
        try LayerDecompressor.read(blob) { uncompressed.append(contentsOf: $0) }
        #expect(written.diffID == Digest.sha256(of: uncompressed))
        let listing = root + "/layer.tar"
        try FileSystem.writeAtomically(listing, uncompressed)
        let extracted = root + "/extracted"
        try FileSystem.createDirectory(extracted)
        let entries = try TarExtractor.extract(file: listing, into: extracted)
        #expect(entries == ["etc", "etc/app", "etc/app/.wh..wh..opq", "etc/app/new.conf", "etc/.wh.motd", "hello", "hello-again"])
        var first = stat(), second = stat()
        stat(extracted + "/hello", &first)
        stat(extracted + "/hello-again", &second)
        #expect(first.st_ino == second.st_ino, "hard links stay hard links")

        // And LayerUnpacker turns it back into the overlay form.
        try FileSystem.createDirectory(root + "/unpacked")
        let unpacked = try LayerUnpacker().unpack(blobPath: blob, into: root + "/unpacked")
        #expect(unpacked.diffID == written.diffID)
        var motd = stat()
        #expect(lstat(root + "/unpacked/etc/motd", &motd) == 0 && (motd.st_mode & S_IFMT) == S_IFCHR && motd.st_rdev == 0)
        #expect(LayerArchiver.isOpaque(root + "/unpacked/etc/app"))
    }
}
