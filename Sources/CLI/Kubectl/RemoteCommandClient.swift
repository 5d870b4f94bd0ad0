import Dispatch
import Foundation
import Glibc
import KubeStreams
import Platform

/// The client end of exec over `v5.channel.k8s.io`, as client-go's WebSocket executor runs it:
/// stdout and stderr from channels 1 and 2, our stdin to channel 0 and its end as `[255, 0]`,
/// terminal sizes to channel 4, pings every 5 s, and the Status from channel 3 once the server
/// closes.
struct RemoteCommandClient {
    let socket: KubeWebSocket
    let sendStdin: Bool
    /// The remote side has a terminal: its size goes along, now and on every SIGWINCH.
    let tty: Bool

    enum Outcome: Equatable {
        case success
        case exitCode(Int)
        /// kubectl prints `error: <message>`.
        case failure(String)
    }

    /// Runs until the server closes the stream.
    func run() throws -> Outcome {
        var winch: DispatchSourceSignal?
        if tty {
            sendSize()
            signal(SIGWINCH, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
            source.setEventHandler { sendSize() }
            source.resume()
            winch = source
        }
        defer { winch?.cancel() }
        // client-go's heartbeat: an empty ping every 5 s keeps idle sessions alive through proxies.
        let heartbeat = DispatchSource.makeTimerSource(queue: .global())
        heartbeat.schedule(deadline: .now() + 5, repeating: 5)
        heartbeat.setEventHandler { [socket] in try? socket.send(.ping, []) }
        heartbeat.resume()
        defer { heartbeat.cancel() }
        if sendStdin {
            let socket = self.socket
            let thread = Thread { Self.copyStdin(to: socket) }
            thread.stackSize = 256 << 10
            thread.start()
        }
        var status: [UInt8] = []
        while true {
            let message: WebSocketMessage?
            do {
                message = try socket.next()
            } catch {
                return .failure("error reading from error stream: next reader: \(error)")
            }
            switch message {
            case .binary(let bytes):
                guard let decoded = ChannelMessage.decode(bytes), case .data(let channel, let payload) = decoded else { continue }
                switch channel {
                case .stdout: Self.write(1, payload)
                case .stderr: Self.write(2, payload)
                case .error: status += payload
                default: continue
                }
            case .text:
                socket.close()
                return .failure("error reading from error stream: next reader: websocket: unexpected text message")
            case .close:
                socket.close()
                return Self.outcome(status: status)
            case nil:
                return .failure("error reading from error stream: next reader: websocket: close 1006 (abnormal closure): unexpected EOF")
            case .ping, .pong:
                continue
            }
        }
    }

    private func sendSize() {
        guard let size = Terminal.size(1) ?? Terminal.size(0) else { return }
        try? socket.send(.binary, ChannelMessage.encode(.resize, Array("{\"Width\":\(size.columns),\"Height\":\(size.rows)}\n".utf8)))
    }

    /// What the error channel said, read as client-go's v4 error decoder reads it.
    static func outcome(status: [UInt8]) -> Outcome {
        guard !status.isEmpty else { return .success }
        guard let json = try? OrderedJSON(parsing: status) else {
            return .failure("error stream protocol error: invalid JSON in \(String(reflecting: String(decoding: status, as: UTF8.self)))")
        }
        switch json["status"]?.stringValue {
        case "Success":
            return .success
        case "Failure":
            guard json["reason"]?.stringValue == "NonZeroExitCode" else { return .failure(json["message"]?.stringValue ?? "") }
            guard let causes = json[path: ["details", "causes"]]?.arrayValue else {
                return .failure("error stream protocol error: details must be set")
            }
            guard let cause = causes.first(where: { $0["reason"]?.stringValue == "ExitCode" }) else {
                return .failure("error stream protocol error: no ExitCode cause given")
            }
            let text = cause["message"]?.stringValue ?? ""
            guard let code = UInt8(text) else { return .failure("error stream protocol error: invalid exit code value \"\(text)\"") }
            return .exitCode(Int(code))
        default:
            return .failure("error stream protocol error: unknown error")
        }
    }

    static func write(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { try? FileSystem.writeAll(fd, $0, path: fd == 1 ? "stdout" : "stderr") }
    }

    /// Our stdin to channel 0 as it comes, then the v5 close of channel 0, which closes the
    /// command's stdin.
    static func copyStdin(to socket: KubeWebSocket) {
        var buffer = [UInt8](repeating: 0, count: 32768)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            do { try socket.send(.binary, ChannelMessage.encode(.stdin, Array(buffer[0..<n]))) } catch { return }
        }
        try? socket.send(.binary, [StreamChannel.close.rawValue, StreamChannel.stdin.rawValue])
    }
}
