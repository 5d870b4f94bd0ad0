import Platform

/// What exec and attach share across transports: the status the client reads at the end, and
/// the terminal sizes it sends.
public enum RemoteCommand {
    /// The SPDY protocol versions a client offers in `X-Stream-Protocol-Version`. v4 and v5 carry
    /// a JSON Status on the error stream; v5 differs only over WebSocket, so SPDY settles on v4.
    public static let spdyProtocols = ["v4.channel.k8s.io"]

    /// SPDY stream types (the `streamtype` header of each SYN_STREAM).
    public enum StreamType: String, Sendable, CaseIterable {
        case error, stdin, stdout, stderr, resize
    }

    /// The streams a SPDY client opens for the request's options.
    public static func expectedStreams(stdin: Bool, stdout: Bool, stderr: Bool, tty: Bool) -> Set<StreamType> {
        var streams: Set<StreamType> = [.error]
        if stdin { streams.insert(.stdin) }
        if stdout { streams.insert(.stdout) }
        if stderr && !tty { streams.insert(.stderr) }
        if tty { streams.insert(.resize) }
        return streams
    }

    /// `metav1.Status` JSON for the end of a command: Success, or the exit code as kubectl reads it.
    public static func exitStatus(_ code: Int32, command: [String]) -> [UInt8] {
        if code == 0 {
            return OrderedJSON.object([("metadata", .object([])), ("status", .string("Success"))]).serializedBytes()
        }
        return OrderedJSON.object([
            ("metadata", .object([])), ("status", .string("Failure")),
            ("message", .string("command terminated with non-zero exit code: error executing command [\(command.joined(separator: " "))], exit code \(code)")),
            ("reason", .string("NonZeroExitCode")),
            ("details", .object([("causes", .array([.object([("reason", .string("ExitCode")), ("message", .string(String(code)))])]))])),
        ]).serializedBytes()
    }

    public static var successStatus: [UInt8] {
        OrderedJSON.object([("metadata", .object([])), ("status", .string("Success"))]).serializedBytes()
    }

    /// A failure kubectl prints as `error: Internal error occurred: <message>`.
    public static func internalErrorStatus(_ message: String) -> [UInt8] {
        OrderedJSON.object([
            ("metadata", .object([])), ("status", .string("Failure")),
            ("message", .string("Internal error occurred: \(message)")), ("reason", .string("InternalError")),
            ("details", .object([("causes", .array([.object([("message", .string(message))])]))])), ("code", .int(500)),
        ]).serializedBytes()
    }
}

public struct TerminalSize: Sendable, Equatable {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}

/// Terminal sizes from the resize channel or stream: JSON objects `{"Width":80,"Height":24}`,
/// one after another, split anywhere.
public struct ResizeReader: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    public mutating func append(_ bytes: [UInt8]) -> [TerminalSize] {
        pending += bytes
        var sizes: [TerminalSize] = []
        while let open = pending.firstIndex(of: UInt8(ascii: "{")) {
            guard let close = pending[open...].firstIndex(of: UInt8(ascii: "}")) else { break }
            let object = Array(pending[open...close])
            pending.removeSubrange(...close)
            if let json = try? OrderedJSON(parsing: object),
               let width = json["Width"]?.intValue, let height = json["Height"]?.intValue {
                sizes.append(TerminalSize(width: Int(width), height: Int(height)))
            }
        }
        if pending.count > 4096 { pending.removeAll() }
        return sizes
    }
}
