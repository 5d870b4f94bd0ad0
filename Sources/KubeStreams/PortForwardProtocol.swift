/// Kubernetes' port-forward over SPDY (`portforward.k8s.io`): for each local connection the
/// client opens an error stream and a data stream, both naming the `port` and one `requestID`.
public enum PortForwardProtocol {
    public static let name = "portforward.k8s.io"
    /// The WebSocket subprotocol of kubectl 1.30+, which tunnels the same SPDY inside binary messages.
    public static let webSocketTunnel = "SPDY/3.1+portforward.k8s.io"

    public struct StreamPair: Sendable, Equatable {
        public var requestID: String
        public var port: Int
        public var errorStream: UInt32
        public var dataStream: UInt32
    }

    public enum StreamKind: String, Sendable { case error, data }
}

/// Collects SYN_STREAMs until both streams of a request are there.
public struct PortForwardPairing: Sendable {
    private var halves: [String: (port: Int, error: UInt32?, data: UInt32?)] = [:]

    public init() {}

    public enum Outcome: Sendable, Equatable {
        case waiting
        case complete(PortForwardProtocol.StreamPair)
        /// The stream is refused with this message (bad headers).
        case invalid(String)
    }

    /// Clients before 1.6 sent no requestID; the kubelet then pairs by stream ID (error = data - 2).
    public mutating func add(streamID: UInt32, headers: SPDYHeaders) -> Outcome {
        guard let typeName = headers["streamtype"], let kind = PortForwardProtocol.StreamKind(rawValue: typeName) else {
            return .invalid("invalid stream type \(headers["streamtype"] ?? "")")
        }
        guard let portText = headers["port"], let port = Int(portText), (1...65535).contains(port) else {
            return .invalid("invalid port header \(headers["port"] ?? "")")
        }
        let requestID = headers["requestid"] ?? String(kind == .error ? streamID : streamID &- 2)
        var entry = halves[requestID] ?? (port, nil, nil)
        switch kind {
        case .error: entry.error = streamID
        case .data: entry.data = streamID
        }
        if let error = entry.error, let data = entry.data {
            halves[requestID] = nil
            return .complete(.init(requestID: requestID, port: port, errorStream: error, dataStream: data))
        }
        halves[requestID] = entry
        return .waiting
    }
}
