import Logging
import NIOCore
import PortForwarding

/// Real listeners: a TCPForwarder or UDPForwarder per service address, asking the port's
/// ServiceBackends for each new connection or UDP session (so endpoint changes and ClientIP
/// affinity apply per connection, and established connections are never touched).
public struct ForwardingListenerFactory: ListenerFactory {
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func listen(host: String, port: Int, transport: Transport, backends: ServiceBackends) async throws -> PortListener {
        let logger = self.logger
        let order: @Sendable (String?) -> [SocketAddress] = { client in
            backends.order(for: client).compactMap { endpoint in
                do {
                    return try SocketAddress(ipAddress: endpoint.ip, port: endpoint.port)
                } catch {
                    logger.warning("unusable endpoint address", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
                    return nil
                }
            }
        }
        // Service addresses share their port with a container published on the wildcard
        // address (PortSharing); NodePorts, on the wildcard address themselves, do not.
        let shared = !PortSharing.isWildcard(host)
        switch transport {
        case .tcp:
            return ForwardingListener(forwarder: .tcp(try await TCPForwarder.start(
                host: host, port: port, backends: { order($0?.ipAddress) }, reusePort: shared, logger: logger)))
        case .udp:
            return ForwardingListener(forwarder: .udp(try await UDPForwarder.start(
                host: host, port: port, backends: { order($0.ipAddress) }, isCurrent: { backend in
                    guard let ip = backend.ipAddress, let port = backend.port else { return false }
                    return backends.contains(ServiceEndpoint(ip: ip, port: port))
                }, reusePort: shared, logger: logger)))
        }
    }
}

struct ForwardingListener: PortListener {
    let forwarder: PortForwarder
    func stop() async { await forwarder.stop() }
}
