import NIOCore
import Synchronization

/// Who may share a port, and how. The book publishes the kubia container with `docker run -p
/// 8080:8080` (the wildcard address) and then exposes the RC as a LoadBalancer on 127.0.1.1:8080
/// with the container still running. Plain sockets clash there (EADDRINUSE). With SO_REUSEPORT
/// on both, Linux lets a wildcard and a specific binding coexist and gives each connection to the
/// most specific listener, so:
/// - the service proxy's ClusterIP and LoadBalancer listeners (specific addresses) set it;
/// - published container ports set it only on the wildcard address, and claim the port here,
///   because the kernel no longer stops two wildcard bindings of this process from sharing it;
/// - everything else (NodePorts, container ports on a specific address) binds exclusively, so
///   it clashes exactly as it would with Docker.
public enum PortSharing {
    /// Wildcard ports this process publishes, as "port/proto".
    static let wildcardClaims = Mutex<Set<String>>([])

    public static func isWildcard(_ host: String) -> Bool { host == "0.0.0.0" || host == "::" }

    /// Claims `port/proto` on the wildcard address; false when this process already publishes it.
    public static func claimWildcard(port: Int, proto: String) -> Bool {
        wildcardClaims.withLock { $0.insert("\(port)/\(proto)").inserted }
    }

    public static func releaseWildcard(port: Int, proto: String) {
        _ = wildcardClaims.withLock { $0.remove("\(port)/\(proto)") }
    }
}

/// A published port's forwarder, TCP or UDP.
public enum PortForwarder: Sendable {
    case tcp(TCPForwarder)
    case udp(UDPForwarder)

    public var localAddress: SocketAddress {
        switch self {
        case .tcp(let forwarder): forwarder.localAddress
        case .udp(let forwarder): forwarder.localAddress
        }
    }

    public func stop() async {
        switch self {
        case .tcp(let forwarder): await forwarder.stop()
        case .udp(let forwarder): await forwarder.stop()
        }
    }
}
