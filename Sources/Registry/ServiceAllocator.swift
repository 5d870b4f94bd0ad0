import Foundation
import KubeModel
import Platform
import Synchronization

/// Cluster IPs from the service CIDR and node ports from 30000–32767, held while a service uses
/// them. Explicit choices are honoured and conflicts rejected with the apiserver's messages.
public final class ServiceAllocator: Sendable {
    public let network: IPv4Network
    public static let nodePortRange = 30000...32767
    private let state = Mutex<State>(State())

    struct State {
        var ips: Set<UInt32> = []
        var nodePorts: Set<Int> = []
    }

    public init(serviceCIDR: IPv4Network) {
        network = serviceCIDR
    }

    /// The `kubernetes` service's address: the first in the range.
    public var apiServerServiceIP: String { IPv4Network.format(network.base + 1) }
    /// kube-dns's ClusterIP: the tenth address, as kubeadm and minikube choose it (10.96.0.10).
    public var clusterDNSServiceIP: String { IPv4Network.format(network.base + 10) }

    /// Marks what existing services hold (at start-up).
    public func restore(from services: [OrderedJSON]) {
        state.withLock { s in
            for service in services {
                if let ip = service[path: ["spec", "clusterIP"]]?.stringValue.flatMap(IPv4Network.parse) { s.ips.insert(ip) }
                for port in service[path: ["spec", "ports"]]?.arrayValue ?? [] {
                    if let nodePort = port["nodePort"]?.intValue { s.nodePorts.insert(Int(nodePort)) }
                }
            }
        }
    }

    public func allocate(for service: OrderedJSON, previous: OrderedJSON?) throws -> OrderedJSON {
        var result = service
        var spec = result["spec"] ?? .object([])
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        let name = service.name
        var errors: [FieldError] = []
        try state.withLock { s in
            if type == "ExternalName" {
                spec["clusterIP"] = nil
                spec["clusterIPs"] = nil
            } else {
                let previousIP = previous?[path: ["spec", "clusterIP"]]?.stringValue
                let requested = spec["clusterIP"]?.stringValue ?? previousIP ?? ""
                if requested == "None" {
                    spec["clusterIP"] = .string("None")
                    spec["clusterIPs"] = .array([.string("None")])
                } else if !requested.isEmpty {
                    guard let ip = IPv4Network.parse(requested), network.contains(ip) else {
                        errors.append(.invalid("spec.clusterIPs", "[]string{\"\(requested)\"}", "failed to allocate IP \(requested): the provided IP (\(requested)) is not in the valid range. The range of valid IPs is \(network)"))
                        return
                    }
                    if requested != previousIP {
                        guard !s.ips.contains(ip) else {
                            errors.append(.invalid("spec.clusterIPs", "[]string{\"\(requested)\"}", "failed to allocate IP \(requested): provided IP is already allocated"))
                            return
                        }
                        s.ips.insert(ip)
                    }
                    spec["clusterIP"] = .string(requested)
                    spec["clusterIPs"] = .array([.string(requested)])
                } else {
                    guard let ip = network.randomFree(excluding: s.ips) else {
                        throw APIError.internalError("failed to allocate a serviceIP: range is full")
                    }
                    s.ips.insert(ip)
                    spec["clusterIP"] = .string(IPv4Network.format(ip))
                    spec["clusterIPs"] = .array([.string(IPv4Network.format(ip))])
                }
            }
            let wantsNodePorts = type == "NodePort" || (type == "LoadBalancer" && spec["allocateLoadBalancerNodePorts"]?.boolValue != false)
            let previousPorts = previous?[path: ["spec", "ports"]]?.arrayValue ?? []
            var ports: [OrderedJSON] = []
            for (i, p) in (spec["ports"]?.arrayValue ?? []).enumerated() {
                var port = p
                guard wantsNodePorts else {
                    port["nodePort"] = nil
                    ports.append(port)
                    continue
                }
                let owned = previousPorts.first { $0["port"] == port["port"] && $0["protocol"] == port["protocol"] }?["nodePort"]?.intValue
                if let requested = port["nodePort"]?.intValue, requested != 0 {
                    guard Self.nodePortRange.contains(Int(requested)) else {
                        errors.append(.invalid("spec.ports[\(i)].nodePort", String(requested), "provided port is not in the valid range. The range of valid ports is 30000-32767"))
                        continue
                    }
                    if requested != owned {
                        guard !s.nodePorts.contains(Int(requested)) else {
                            errors.append(.invalid("spec.ports[\(i)].nodePort", String(requested), "provided port is already allocated"))
                            continue
                        }
                        s.nodePorts.insert(Int(requested))
                    }
                } else if let owned {
                    port["nodePort"] = .int(owned)
                } else {
                    let free = Self.nodePortRange.filter { !s.nodePorts.contains($0) }
                    guard let chosen = free.randomElement() else { throw APIError.internalError("failed to allocate a nodePort: range is full") }
                    s.nodePorts.insert(chosen)
                    port["nodePort"] = .int(Int64(chosen))
                }
                ports.append(port)
            }
            if spec["ports"] != nil { spec["ports"] = .array(ports) }
        }
        if !errors.isEmpty {
            release(result, keeping: previous)
            throw APIError.invalid(kind: "Service", name: name, errors)
        }
        result["spec"] = spec
        return result
    }

    /// Frees what a deleted service held.
    public func release(_ service: OrderedJSON) {
        release(service, keeping: nil)
    }

    /// After an update, frees what the old version held and the new one does not.
    public func releaseUnused(before: OrderedJSON, after: OrderedJSON) {
        release(before, keeping: after)
    }

    private func release(_ service: OrderedJSON, keeping: OrderedJSON?) {
        let keptIP = keeping?[path: ["spec", "clusterIP"]]?.stringValue
        let keptPorts = Set((keeping?[path: ["spec", "ports"]]?.arrayValue ?? []).compactMap { $0["nodePort"]?.intValue })
        state.withLock { s in
            if let text = service[path: ["spec", "clusterIP"]]?.stringValue, text != keptIP, let ip = IPv4Network.parse(text) {
                s.ips.remove(ip)
            }
            for port in service[path: ["spec", "ports"]]?.arrayValue ?? [] {
                if let nodePort = port["nodePort"]?.intValue, !keptPorts.contains(nodePort) { s.nodePorts.remove(Int(nodePort)) }
            }
        }
    }
}

/// An IPv4 CIDR such as 10.96.0.0/12.
public struct IPv4Network: Sendable, CustomStringConvertible, Equatable {
    public let base: UInt32
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let ip = Self.parse(String(parts[0])), let prefix = Int(parts[1]), (0...32).contains(prefix) else { return nil }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
        base = ip & mask
        self.prefix = prefix
    }

    public var size: UInt32 { prefix == 0 ? UInt32.max : UInt32(1) << (32 - prefix) }
    public var description: String { "\(Self.format(base))/\(prefix)" }

    public func contains(_ ip: UInt32) -> Bool { ip >= base && ip - base < size }

    /// A random usable address (not the network or broadcast address) that is not taken.
    func randomFree(excluding used: Set<UInt32>) -> UInt32? {
        guard size > 3 else { return nil }
        for _ in 0..<64 {
            let candidate = base + UInt32.random(in: 2..<(size - 1))
            if !used.contains(candidate) { return candidate }
        }
        return (base + 2..<base + size - 1).first { !used.contains($0) }
    }

    public static func parse(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard let n = UInt32(octet), n <= 255 else { return nil }
            value = value << 8 | n
        }
        return value
    }

    public static func format(_ ip: UInt32) -> String {
        "\(ip >> 24).\((ip >> 16) & 255).\((ip >> 8) & 255).\(ip & 255)"
    }
}
