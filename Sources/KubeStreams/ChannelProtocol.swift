/// Kubernetes' channel protocol over WebSocket (`v4.channel.k8s.io`, `v5.channel.k8s.io`): every
/// binary message is one channel byte and its payload.
public enum ChannelProtocol: String, Sendable, CaseIterable {
    /// v5 adds the close message: the client's stdin EOF.
    case v5 = "v5.channel.k8s.io"
    case v4 = "v4.channel.k8s.io"

    /// Preferred first, as the server chooses.
    public static let supported = allCases.map(\.rawValue)
}

public enum StreamChannel: UInt8, Sendable {
    case stdin = 0, stdout = 1, stderr = 2, error = 3, resize = 4
    /// v5: `[255, channel]` says the client has closed that channel.
    case close = 255
}

public enum ChannelMessage: Sendable, Equatable {
    case data(StreamChannel, [UInt8])
    /// The client closed a channel (v5): for stdin, its EOF.
    case closed(StreamChannel)

    public static func encode(_ channel: StreamChannel, _ payload: [UInt8]) -> [UInt8] {
        [channel.rawValue] + payload
    }

    /// nil for an empty message or an unknown channel, which the protocol says to ignore.
    public static func decode(_ message: [UInt8]) -> ChannelMessage? {
        guard let first = message.first, let channel = StreamChannel(rawValue: first) else { return nil }
        if channel == .close {
            guard message.count >= 2, let closed = StreamChannel(rawValue: message[1]) else { return nil }
            return .closed(closed)
        }
        return .data(channel, Array(message.dropFirst()))
    }
}
