import Glibc
import NIOCore
import NIOHTTP1
import Platform

/// Request bodies that go to a file as they arrive instead of into memory: `docker load`'s image
/// archives and `docker build`'s contexts run to hundreds of megabytes, and their handlers read
/// them from a file anyway. The file is the request's until its answer has been written, then it
/// is removed; one left by a crash is removed when the spool is next set up.
public struct BodySpool: Sendable {
    public let directory: String
    /// The largest body spooled; a larger one is refused as too large.
    public let maxBytes: Int64
    let wants: @Sendable (HTTPMethod, String) -> Bool

    /// Creates `directory` (mode 0700) and empties it. `wants` picks the requests by method and
    /// decoded path.
    public init(directory: String, maxBytes: Int64, wants: @escaping @Sendable (HTTPMethod, String) -> Bool) throws {
        self.directory = directory
        self.maxBytes = maxBytes
        self.wants = wants
        try FileSystem.createDirectory(directory, mode: 0o700)
        for name in try FileSystem.listDirectory(directory) where name.hasPrefix("body-") { unlink(directory + "/" + name) }
    }

    func wants(_ head: HTTPRequestHead) -> Bool {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        return wants(head.method, QueryParameters.percentDecode(path, plusIsSpace: false))
    }
}

/// One body being written to its spool file.
struct SpooledBody {
    let path: String
    private var fd: Int32
    private(set) var size: Int64 = 0
    /// Why the body could not be kept (a write failed), if it could not.
    private(set) var failure: String?

    init(in spool: BodySpool) throws {
        let path = spool.directory + "/body-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw HTTPServerError(message: "open \(path): \(String(cString: strerror(errno)))") }
        self.fd = fd
        self.path = path
    }

    /// Appends a chunk. The page cache takes it at once; a disk that cannot keep up holds this
    /// event loop, which is the back-pressure the client gets.
    mutating func append(_ chunk: ByteBuffer) {
        guard failure == nil else { return }
        do {
            try chunk.withUnsafeReadableBytes { bytes throws(SystemError) in try FileSystem.writeAll(fd, bytes, path: path) }
        } catch {
            failure = "\(error)"
            return
        }
        size += Int64(chunk.readableBytes)
    }

    /// The body is complete: the file stays for the handler.
    mutating func finish() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// The body will not be used: the file goes.
    mutating func discard() {
        finish()
        unlink(path)
    }
}
