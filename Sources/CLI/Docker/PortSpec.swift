/// `-p [ip:][hostPort:]containerPort[/proto]` as the docker CLI reads it (go-connections'
/// nat.ParsePortSpec), ranges included (`8000-8002:80-82`).
struct PortSpec: Equatable {
    var hostIP: String
    /// Empty: any free port.
    var hostPort: String
    var containerPort: Int
    var proto: String

    var key: String { "\(containerPort)/\(proto)" }

    static func parse(_ text: String) throws -> [PortSpec] {
        var rest = text
        var proto = "tcp"
        if let slash = rest.lastIndex(of: "/") {
            proto = String(rest[rest.index(after: slash)...]).lowercased()
            rest = String(rest[..<slash])
            guard ["tcp", "udp", "sctp"].contains(proto) else { throw PortSpecError("invalid proto: \(proto)") }
        }
        var ip = ""
        var hostPart = ""
        var containerPart = rest
        if rest.hasPrefix("[") {
            // [ipv6]:host:container
            guard let close = rest.firstIndex(of: "]") else { throw PortSpecError("invalid IP address: \(rest)") }
            ip = String(rest[rest.index(after: rest.startIndex)..<close])
            let remainder = rest[rest.index(after: close)...].dropFirst()
            let parts = remainder.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else { throw PortSpecError("invalid port format for --publish: \(text)") }
            hostPart = parts[0]
            containerPart = parts[1]
        } else {
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            switch parts.count {
            case 1: containerPart = parts[0]
            case 2:
                hostPart = parts[0]
                containerPart = parts[1]
            case 3:
                ip = parts[0]
                hostPart = parts[1]
                containerPart = parts[2]
            default:
                throw PortSpecError("invalid port format for --publish: \(text)")
            }
            if !ip.isEmpty && !isIPv4(ip) { throw PortSpecError("invalid IP address: \(ip)") }
        }
        guard !containerPart.isEmpty else { throw PortSpecError("no port specified: \(text)<empty>") }
        let containerRange = try range(containerPart, what: "containerPort")
        var hostRange: ClosedRange<Int>?
        if !hostPart.isEmpty { hostRange = try range(hostPart, what: "hostPort") }
        if let hostRange, hostRange.count != containerRange.count, hostRange.count != 1 {
            throw PortSpecError("invalid ranges specified for container and host Ports: \(containerPart) and \(hostPart)")
        }
        return containerRange.enumerated().map { offset, port in
            var host = ""
            if let hostRange {
                host = hostRange.count == 1 ? "\(hostRange.lowerBound)" : "\(hostRange.lowerBound + offset)"
            }
            return PortSpec(hostIP: ip, hostPort: host, containerPort: port, proto: proto)
        }
    }

    static func range(_ text: String, what: String) throws -> ClosedRange<Int> {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let low = Int(parts[0]), (0...65535).contains(low) else { throw PortSpecError("invalid \(what): \(text)") }
        guard parts.count == 2 else { return low...low }
        guard let high = Int(parts[1]), (low...65535).contains(high) else { throw PortSpecError("invalid \(what): \(text)") }
        return low...high
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && UInt8($0) != nil }
    }
}

struct PortSpecError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Byte sizes as the docker CLI reads `--memory` (go-units RAMInBytes: binary multiples, an
/// optional `b` suffix, case-insensitive).
enum ByteSize {
    static func parse(_ text: String) -> Int64? {
        var value = text.lowercased()
        if value.hasSuffix("b") && value.count > 1 { value.removeLast() }
        var multiplier: Double = 1
        if let last = value.last, let power = ["k": 1, "m": 2, "g": 3, "t": 4, "p": 5][String(last)] {
            multiplier = pow1024(power)
            value.removeLast()
        }
        guard let number = Double(value), number >= 0 else { return nil }
        return Int64(number * multiplier)
    }

    static func pow1024(_ power: Int) -> Double {
        (0..<power).reduce(1.0) { value, _ in value * 1024 }
    }
}
