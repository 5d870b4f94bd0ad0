import Foundation
import Glibc
import KubeStreams
import Platform
import Synchronization

/// The client end of port-forward as kubectl 1.30+ speaks it: SPDY/3.1 inside the binary
/// messages of a WebSocket (`SPDY/3.1+portforward.k8s.io`). Each local connection is a pair of
/// streams — error and data — naming the pod's port and one request ID; the data stream's bytes
/// go both ways, and whatever the error stream says is printed once the pair is done.
final class PortForwardTunnel: @unchecked Sendable {
    private let socket: KubeWebSocket
    /// The header compression is one stream for the connection: encoding and sending are one step.
    private let encoder: Mutex<SPDYFrameEncoder>
    /// Used by the reading thread only.
    private let decoder: SPDYFrameDecoder
    private let forwards = Mutex(Table())
    /// Called with an error stream's text (kubectl hands it to `runtime.HandleError`).
    private let report: @Sendable (String) -> Void

    private struct Table {
        var nextStreamID: UInt32 = 1
        var nextRequestID = 0
        var byStream: [UInt32: Forward] = [:]
    }

    /// One local connection and its two streams.
    private final class Forward: @unchecked Sendable {
        let fd: Int32
        let localPort: Int
        let remotePort: Int
        let errorStream: UInt32
        let dataStream: UInt32
        /// Filled and read by the tunnel's reading thread only.
        var errorText: [UInt8] = []
        var remoteDone = false
        var errorDone = false
        /// Signalled when both streams have ended: the local side may close.
        let finished = DispatchSemaphore(value: 0)

        init(fd: Int32, localPort: Int, remotePort: Int, errorStream: UInt32, dataStream: UInt32) {
            self.fd = fd
            self.localPort = localPort
            self.remotePort = remotePort
            self.errorStream = errorStream
            self.dataStream = dataStream
        }
    }

    init(socket: KubeWebSocket, report: @escaping @Sendable (String) -> Void) throws {
        self.socket = socket
        encoder = Mutex(try SPDYFrameEncoder())
        decoder = try SPDYFrameDecoder()
        self.report = report
    }

    private func send(_ frame: SPDYFrame) throws {
        try encoder.withLock { encoder in try socket.send(.binary, try encoder.encode(frame)) }
    }

    /// Serves one accepted local connection until both sides are done, then closes it.
    func handle(connection fd: Int32, localPort: Int, remotePort: Int) {
        var opened: Forward?
        do {
            // Stream IDs go out in increasing order: they are taken and announced under the encoder's lock.
            let forward = try encoder.withLock { encoder -> Forward in
                let (forward, requestID) = forwards.withLock { table -> (Forward, String) in
                    let requestID = table.nextRequestID
                    table.nextRequestID += 1
                    // Client streams have odd IDs.
                    let forward = Forward(fd: fd, localPort: localPort, remotePort: remotePort,
                                          errorStream: table.nextStreamID, dataStream: table.nextStreamID + 2)
                    table.nextStreamID += 4
                    table.byStream[forward.errorStream] = forward
                    table.byStream[forward.dataStream] = forward
                    return (forward, String(requestID))
                }
                opened = forward
                for frame: SPDYFrame in [
                    .synStream(streamID: forward.errorStream, associatedTo: 0, priority: 0, flags: 0,
                               headers: SPDYHeaders([("streamType", "error"), ("port", String(remotePort)), ("requestID", requestID)])),
                    // We write nothing on the error stream.
                    .data(streamID: forward.errorStream, flags: SPDYFrame.flagFin, payload: []),
                    .synStream(streamID: forward.dataStream, associatedTo: 0, priority: 0, flags: 0,
                               headers: SPDYHeaders([("streamType", "data"), ("port", String(remotePort)), ("requestID", requestID)])),
                ] {
                    try socket.send(.binary, try encoder.encode(frame))
                }
                return forward
            }
            var buffer = [UInt8](repeating: 0, count: 32768)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                try send(.data(streamID: forward.dataStream, flags: 0, payload: Array(buffer[0..<n])))
            }
            // Our side ended: the pod's port sees the end of its input.
            try send(.data(streamID: forward.dataStream, flags: SPDYFrame.flagFin, payload: []))
        } catch {
            // A forward already finished (its tunnel closed after an error) has nothing more to say.
            if opened.map(finish) ?? true { report("error copying from local connection to remote stream: \(error)") }
        }
        opened?.finished.wait()
        close(fd)
    }

    /// Reads the tunnel until it ends: the pod's bytes to their local connections, error
    /// streams collected, pings answered. Returns when the connection to the server is gone.
    func run() {
        defer { finishAll() }
        do {
            while let message = try socket.next() {
                switch message {
                case .binary(let bytes):
                    // Message boundaries mean nothing: the payloads are one SPDY byte stream.
                    decoder.append(bytes)
                    while let frame = try decoder.next() { try handle(frame) }
                case .close:
                    socket.close()
                    return
                case .text, .ping, .pong:
                    continue
                }
            }
        } catch {
            return
        }
    }

    private func handle(_ frame: SPDYFrame) throws {
        switch frame {
        case .data(let id, let flags, let payload):
            guard let forward = forwards.withLock({ $0.byStream[id] }) else { return }
            if id == forward.dataStream {
                if !payload.isEmpty { Self.write(forward.fd, payload) }
                if flags & SPDYFrame.flagFin != 0 { forward.remoteDone = true }
            } else {
                forward.errorText += payload
                if flags & SPDYFrame.flagFin != 0 { forward.errorDone = true }
            }
            if forward.remoteDone && forward.errorDone { done(forward) }
        case .rstStream(let id, _):
            guard let forward = forwards.withLock({ $0.byStream[id] }) else { return }
            forward.remoteDone = true
            forward.errorDone = true
            done(forward)
        case .ping(let id):
            try send(.ping(id: id))
        default:
            return
        }
    }

    /// Both streams ended: let the local side close. An error stream that said something ends
    /// the whole forward, as in kubectl 1.32 (which then reports the lost connection).
    private func done(_ forward: Forward) {
        finish(forward)
        if !forward.errorText.isEmpty {
            report("an error occurred forwarding \(forward.localPort) -> \(forward.remotePort): \(String(decoding: forward.errorText, as: UTF8.self))")
            socket.shutdown()
        }
    }

    /// Whether the forward was still open.
    @discardableResult
    private func finish(_ forward: Forward) -> Bool {
        let removed = forwards.withLock { table -> Bool in
            guard table.byStream[forward.dataStream] != nil else { return false }
            table.byStream[forward.dataStream] = nil
            table.byStream[forward.errorStream] = nil
            return true
        }
        guard removed else { return false }
        // Wakes the thread reading the local connection, which then closes it.
        shutdown(forward.fd, Int32(SHUT_RDWR))
        forward.finished.signal()
        return true
    }

    /// Ends every forward at once (the tunnel is gone).
    func finishAll() {
        let all = forwards.withLock { table in Array(table.byStream.values) }
        for forward in all { finish(forward) }
    }

    /// To a local connection; a client that went away loses the rest.
    static func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
                return Glibc.send(fd, rest.baseAddress, rest.count, Int32(MSG_NOSIGNAL))
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
