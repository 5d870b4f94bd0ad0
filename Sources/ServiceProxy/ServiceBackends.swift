import Foundation
import KubeModel
import Platform
import Synchronization

/// One backend of a service port: a ready pod's IP and the port its endpoints name.
public struct ServiceEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var ip: String
    public var port: Int

    public init(ip: String, port: Int) {
        self.ip = ip
        self.port = port
    }

    public var description: String { "\(ip):\(port)" }

    /// The ready endpoints of the service port named `portName` ("" for a single unnamed port),
    /// from an Endpoints object: each subset's addresses with the subset's port of that name.
    public static func ready(in endpoints: OrderedJSON?, portName: String) -> [ServiceEndpoint] {
        var result: [ServiceEndpoint] = []
        for subset in endpoints?["subsets"]?.arrayValue ?? [] {
            let ports = subset["ports"]?.arrayValue ?? []
            let match = ports.first { ($0["name"]?.stringValue ?? "") == portName } ?? (ports.count == 1 && portName.isEmpty ? ports.first : nil)
            guard let port = match?["port"]?.intValue else { continue }
            for address in subset["addresses"]?.arrayValue ?? [] {
                if let ip = address["ip"]?.stringValue { result.append(ServiceEndpoint(ip: ip, port: Int(port))) }
            }
        }
        return result
    }
}

/// Chooses a service port's backend for each new connection, as kube-proxy's userspace mode did:
/// round robin over the ready endpoints, or with `sessionAffinity: ClientIP` the client's last
/// backend while it stays ready and the affinity has not timed out. The chosen backend comes
/// first; the others follow as fallbacks should the connect fail.
public final class ServiceBackends: Sendable {
    struct State {
        var endpoints: [ServiceEndpoint] = []
        var next = 0
        var clientAffinity = false
        var affinityTimeout: TimeInterval = 10_800
        var affinity: [String: (endpoint: ServiceEndpoint, lastUsed: Date)] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    /// New endpoints apply to new connections; established ones are not touched.
    public func update(endpoints: [ServiceEndpoint], clientAffinity: Bool, affinityTimeout: TimeInterval = 10_800) {
        state.withLock { s in
            s.endpoints = endpoints
            s.clientAffinity = clientAffinity
            s.affinityTimeout = affinityTimeout
            if s.next >= endpoints.count { s.next = 0 }
            let live = Set(endpoints)
            s.affinity = clientAffinity ? s.affinity.filter { live.contains($0.value.endpoint) } : [:]
        }
    }

    public var isEmpty: Bool { state.withLock { $0.endpoints.isEmpty } }

    /// Whether `endpoint` is still one of the ready backends (a UDP session checks per datagram).
    public func contains(_ endpoint: ServiceEndpoint) -> Bool { state.withLock { $0.endpoints.contains(endpoint) } }

    /// The backends to try for a connection from `client`, chosen one first.
    public func order(for client: String?, now: Date = Date()) -> [ServiceEndpoint] {
        state.withLock { s in
            guard !s.endpoints.isEmpty else { return [] }
            if s.clientAffinity, let client, let sticky = s.affinity[client],
               now.timeIntervalSince(sticky.lastUsed) < s.affinityTimeout, s.endpoints.contains(sticky.endpoint) {
                s.affinity[client] = (sticky.endpoint, now)
                return [sticky.endpoint] + s.endpoints.filter { $0 != sticky.endpoint }
            }
            let start = s.next % s.endpoints.count
            s.next = (start + 1) % s.endpoints.count
            let ordered = Array(s.endpoints[start...] + s.endpoints[..<start])
            if s.clientAffinity, let client, let chosen = ordered.first { s.affinity[client] = (chosen, now) }
            return ordered
        }
    }
}
