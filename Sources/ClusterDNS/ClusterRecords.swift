import KubeModel
import ObjectStore
import Platform

/// What the cluster's names resolve to, as CoreDNS's kubernetes plugin answers them:
/// `<svc>.<ns>.svc.<domain>` (the ClusterIP; a headless service's ready endpoints; an
/// ExternalName's CNAME), `<hostname>.<svc>.<ns>.svc.<domain>` for named endpoints,
/// `_<port>._<proto>.<svc>.<ns>.svc.<domain>` SRV, `<a-b-c-d>.<ns>.pod.<domain>`, and PTR for
/// service IPs. Names outside the domain are not ours: they go upstream.
public struct ClusterRecords: Sendable {
    public enum Answer: Sendable, Equatable {
        case records([DNSRecord])
        /// The name exists but has no records of the type asked for.
        case noData
        /// No such name in the cluster domain.
        case nameError
        /// Not a cluster name: forward it.
        case notOurs
    }

    public let domain: String
    public let ttl: UInt32
    let directory: ClusterDirectory

    public init(domain: String = "cluster.local", ttl: UInt32 = 5, directory: ClusterDirectory) {
        self.domain = domain
        self.ttl = ttl
        self.directory = directory
    }

    /// The SOA that negative answers carry in their authority section.
    public var soa: DNSRecord {
        DNSRecord(name: domain, ttl: ttl, data: .soa(primary: "ns.dns.\(domain)", mailbox: "hostmaster.\(domain)", serial: 1,
                                                     refresh: 7200, retry: 1800, expire: 86400, minimum: ttl))
    }

    public func answer(_ name: String, type: DNSRecordType) -> Answer {
        if name.hasSuffix(".in-addr.arpa") { return reverse(name, type: type) }
        guard name == domain || name.hasSuffix("." + domain) else { return .notOurs }
        let inside = name == domain ? [] : name.dropLast(domain.count + 1).split(separator: ".").map(String.init)
        guard let zone = inside.last else { return .noData }
        switch zone {
        case "svc": return service(inside.dropLast(), name: name, type: type)
        case "pod": return pod(inside.dropLast(), name: name, type: type)
        default: return .nameError
        }
    }

    func service(_ labels: ArraySlice<String>, name: String, type: DNSRecordType) -> Answer {
        switch labels.count {
        case 0: return .noData
        case 1: return directory.namespaceExists(labels[labels.startIndex]) ? .noData : .nameError
        default: break
        }
        let parts = Array(labels)
        let namespace = parts[parts.count - 1]
        let serviceName = parts[parts.count - 2]
        guard let service = directory.service(namespace, serviceName) else { return .nameError }
        let qualified = "\(serviceName).\(namespace).svc.\(domain)"
        let headless = service[path: ["spec", "clusterIP"]]?.stringValue == "None"
        switch parts.count {
        case 2:
            if let external = service[path: ["spec", "externalName"]]?.stringValue,
               service[path: ["spec", "type"]]?.stringValue == "ExternalName" {
                return .records([DNSRecord(name: name, ttl: ttl, data: .cname(external.lowercased()))])
            }
            let addresses = headless ? readyAddresses(namespace, serviceName).map(\.ip)
                : (service[path: ["spec", "clusterIPs"]]?.arrayValue?.compactMap(\.stringValue)
                    ?? [service[path: ["spec", "clusterIP"]]?.stringValue].compactMap { $0 })
            switch type {
            case .a, .any:
                let records = addresses.compactMap(Self.ipv4).map { DNSRecord(name: name, ttl: ttl, data: .a($0)) }
                return records.isEmpty ? .noData : .records(records)
            case .srv:
                let ports = (service[path: ["spec", "ports"]]?.arrayValue ?? []).compactMap { $0["port"]?.intValue }
                let records = ports.map { DNSRecord(name: name, ttl: ttl, data: .srv(priority: 0, weight: 100, port: UInt16(clamping: $0), target: qualified)) }
                return records.isEmpty ? .noData : .records(records)
            default: return .noData
            }
        case 3:
            // A named endpoint of a headless service.
            let hostname = parts[0]
            guard let endpoint = readyAddresses(namespace, serviceName).first(where: { $0.hostname == hostname }) else { return .nameError }
            guard type == .a || type == .any, let address = Self.ipv4(endpoint.ip) else { return .noData }
            return .records([DNSRecord(name: name, ttl: ttl, data: .a(address))])
        case 4 where parts[0].hasPrefix("_") && parts[1].hasPrefix("_"):
            let portName = String(parts[0].dropFirst())
            let proto = String(parts[1].dropFirst()).uppercased()
            let port = (service[path: ["spec", "ports"]]?.arrayValue ?? []).first {
                $0["name"]?.stringValue == portName && ($0["protocol"]?.stringValue ?? "TCP") == proto
            }
            guard let number = port?["port"]?.intValue else { return .nameError }
            guard type == .srv || type == .any else { return .noData }
            return .records([DNSRecord(name: name, ttl: ttl, data: .srv(priority: 0, weight: 100, port: UInt16(clamping: number), target: qualified))])
        default:
            return .nameError
        }
    }

    func pod(_ labels: ArraySlice<String>, name: String, type: DNSRecordType) -> Answer {
        let parts = Array(labels)
        switch parts.count {
        case 0: return .noData
        case 1: return directory.namespaceExists(parts[0]) ? .noData : .nameError
        case 2:
            guard let address = Self.ipv4(parts[0].replacingOccurrences(of: "-", with: ".")) else { return .nameError }
            guard type == .a || type == .any else { return .noData }
            return .records([DNSRecord(name: name, ttl: ttl, data: .a(address))])
        default: return .nameError
        }
    }

    /// PTR for a service's ClusterIP; other addresses go upstream.
    func reverse(_ name: String, type: DNSRecordType) -> Answer {
        let octets = name.dropLast(".in-addr.arpa".count).split(separator: ".").reversed().joined(separator: ".")
        guard Self.ipv4(octets) != nil, let service = directory.serviceWithClusterIP(octets) else { return .notOurs }
        guard type == .ptr || type == .any else { return .noData }
        return .records([DNSRecord(name: name, ttl: ttl, data: .ptr("\(service.name).\(service.namespace).svc.\(domain)"))])
    }

    func readyAddresses(_ namespace: String, _ service: String) -> [(ip: String, hostname: String?)] {
        guard let endpoints = directory.endpoints(namespace, service) else { return [] }
        return (endpoints["subsets"]?.arrayValue ?? []).flatMap { subset in
            (subset["addresses"]?.arrayValue ?? []).compactMap { address in
                address["ip"]?.stringValue.map { ($0, address["hostname"]?.stringValue) }
            }
        }
    }

    static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }
}

/// Where cluster DNS reads services and endpoints: the object store, or fixtures in tests.
public struct ClusterDirectory: Sendable {
    public var service: @Sendable (_ namespace: String, _ name: String) -> OrderedJSON?
    public var endpoints: @Sendable (_ namespace: String, _ name: String) -> OrderedJSON?
    public var namespaceExists: @Sendable (_ namespace: String) -> Bool
    public var serviceWithClusterIP: @Sendable (_ ip: String) -> OrderedJSON?

    public init(service: @escaping @Sendable (String, String) -> OrderedJSON?,
                endpoints: @escaping @Sendable (String, String) -> OrderedJSON?,
                namespaceExists: @escaping @Sendable (String) -> Bool,
                serviceWithClusterIP: @escaping @Sendable (String) -> OrderedJSON?) {
        self.service = service
        self.endpoints = endpoints
        self.namespaceExists = namespaceExists
        self.serviceWithClusterIP = serviceWithClusterIP
    }

    public init(store: ObjectStore) {
        self.init(
            service: { store.get(ObjectKey(resource: "services", namespace: $0, name: $1))?.value },
            endpoints: { store.get(ObjectKey(resource: "endpoints", namespace: $0, name: $1))?.value },
            namespaceExists: { store.get(ObjectKey(resource: "namespaces", name: $0)) != nil },
            serviceWithClusterIP: { ip in
                store.list(ObjectScope(resource: "services")).items.first { $0.value[path: ["spec", "clusterIP"]]?.stringValue == ip }?.value
            })
    }
}
