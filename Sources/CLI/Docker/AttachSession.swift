import CLinux
import Dispatch
import DockerAPI
import Foundation
import Glibc
import Platform

/// The client end of an attach or exec stream: output to our stdout and stderr (demultiplexed
/// unless the process has a terminal), our stdin to the process, terminal size changes to the
/// daemon.
enum AttachSession {
    /// Copies until the daemon closes the stream.
    static func run(_ connection: HijackedConnection, tty: Bool, sendStdin: Bool, resize: (@Sendable (UInt16, UInt16) -> Void)?) throws {
        let raw = tty && sendStdin ? Terminal.makeRaw(0) : nil
        defer { raw?.restore() }
        var winch: DispatchSourceSignal?
        if tty, let resize {
            if let size = Terminal.size(1) { resize(size.rows, size.columns) }
            signal(SIGWINCH, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
            source.setEventHandler {
                if let size = Terminal.size(1) { resize(size.rows, size.columns) }
            }
            source.resume()
            winch = source
        }
        defer { winch?.cancel() }
        if sendStdin {
            let thread = Thread { copyStdin(to: connection) }
            thread.stackSize = 256 << 10
            thread.start()
        }
        var decoder = StreamFraming.Decoder()
        while true {
            let bytes = connection.read()
            if bytes.isEmpty { return }
            if tty {
                write(1, bytes)
                continue
            }
            let frames: [(StreamFraming.Kind, [UInt8])]
            do {
                frames = try decoder.feed(bytes)
            } catch {
                throw DockerCLIError(message: "\(error)")
            }
            for (kind, payload) in frames {
                switch kind {
                case .stderr: write(2, payload)
                case .systemError: throw DockerCLIError(message: "error from daemon in stream: " + String(decoding: payload, as: UTF8.self))
                case .stdin, .stdout: write(1, payload)
                }
            }
        }
    }

    static func write(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { try? FileSystem.writeAll(fd, $0, path: fd == 1 ? "stdout" : "stderr") }
    }

    /// Our stdin to the stream, then a half-close at its end (the process's stdin then closes).
    static func copyStdin(to connection: HijackedConnection) {
        var buffer = [UInt8](repeating: 0, count: 32768)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            do { try connection.write(Array(buffer[0..<n])) } catch { return }
        }
        connection.closeWrite()
    }
}
