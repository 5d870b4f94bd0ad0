import APIServer
import NIOCore
import NIOPosix

/// A TCP connection from the daemon to a pod (its IP is on onekube's bridge), spliced to a
/// client's stream: the port-forward the kubelet makes inside the pod's network namespace.
enum PodConnection {
    enum Side: Sendable { case client, pod }

    static func splice(host: String, port: Int, input: AsyncStream<[UInt8]>,
                       output: @escaping @Sendable ([UInt8]) async throws -> Void) async throws {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(5))
                .channelOption(.allowRemoteHalfClosure, value: true)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true))
                    }
                }
        } catch {
            throw PodStreamingError("dial tcp4 \(host):\(port): connect: \(connectFailure(error))")
        }
        try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Side.self) { group in
                group.addTask {
                    for await bytes in input {
                        try await outbound.write(ByteBuffer(bytes: bytes))
                    }
                    // The client's EOF: half-close towards the pod and keep reading its answer.
                    outbound.finish()
                    return .client
                }
                group.addTask {
                    for try await buffer in inbound {
                        try await output(Array(buffer.readableBytesView))
                    }
                    return .pod
                }
                while let side = try await group.next() {
                    if side == .pod {
                        group.cancelAll()
                        return
                    }
                }
            }
        }
    }

    static func connectFailure(_ error: Error) -> String {
        let text = "\(error)"
        if text.contains("refused") { return "connection refused" }
        if text.contains("timeout") || text.contains("Timeout") { return "i/o timeout" }
        return text
    }
}
