import Logging
import NIOCore
import PortForwarding

/// Real listeners: one TCPForwarder per service address, asking the port's ServiceBackends for
/// each new connection (so endpoint changes and ClientIP affinity apply per connection, and
/// established connections are never touched).
public struct TCPListenerFactory: ListenerFactory {
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func listen(host: String, port: Int, backends: ServiceBackends) async throws -> PortListener {
        let logger = self.logger
        let forwarder = try await TCPForwarder.start(host: host, port: port, backends: { client in
            backends.order(for: client?.ipAddress).compactMap { endpoint in
                do {
                    return try SocketAddress(ipAddress: endpoint.ip, port: endpoint.port)
                } catch {
                    logger.warning("unusable endpoint address", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
                    return nil
                }
            }
        }, logger: logger)
        return ForwardingListener(forwarder: forwarder)
    }
}

struct ForwardingListener: PortListener {
    let forwarder: TCPForwarder
    func stop() async { await forwarder.stop() }
}
