import Glibc
import Platform

/// The addresses one onekube instance puts on `lo` (service ClusterIPs, so that the proxy and
/// cluster DNS can bind them and nothing sent to them leaves the host). Each is a /32 labelled
/// `lo:ok<8 hex digits of the data directory's hash>`, so that removing them — one at a time,
/// or all at once at stop and after a crash — never touches another instance's addresses or the
/// administrator's. A netlink socket per call keeps the type free of shared state.
public struct LoopbackAddresses: Sendable {
    public static let link = "lo"
    public let label: String

    public init(dataDirectory: String) {
        // IFNAMSIZ: a label has at most 15 characters and starts with the link's name.
        label = Self.link + ":ok" + String(SHA256Hasher.hex(dataDirectory).prefix(8))
    }

    public func add(_ ip: String) throws {
        let address = try Self.parse(ip)
        let socket = try NetlinkSocket()
        let index = try Self.loopbackIndex(socket)
        if let existing = try socket.addresses(index: index).first(where: { $0.address == address }) {
            guard existing.label == label else {
                throw OnekubeError(.alreadyExists, "add \(ip)/32 to \(Self.link): already there with label \(existing.label) (another onekube instance, or the administrator's)")
            }
            return
        }
        try socket.addAddress(address, prefixLength: 32, index: index, name: Self.link, label: label)
    }

    /// Removes the address if it is this instance's; an address already gone is fine.
    public func remove(_ ip: String) throws {
        let address = try Self.parse(ip)
        let socket = try NetlinkSocket()
        let index = try Self.loopbackIndex(socket)
        guard try socket.addresses(index: index).contains(where: { $0.address == address && $0.label == label }) else { return }
        // Gone meanwhile (EADDRNOTAVAIL) is fine. (A `catch where` on the typed throw here
        // crashes Swift 6.3's SIL ownership verifier, hence the Result.)
        if case .failure(let error) = Result(catching: { () throws(SystemError) in
            try socket.deleteAddress(address, prefixLength: 32, index: index, name: Self.link, label: label)
        }), error.errno != EADDRNOTAVAIL {
            throw error
        }
    }

    /// This instance's addresses now on `lo`.
    public func current() throws -> [String] {
        let socket = try NetlinkSocket()
        return try socket.addresses(index: try Self.loopbackIndex(socket)).filter { $0.label == label }.map(\.address.description)
    }

    /// Removes every address with this instance's label: what a crashed run left, or all at stop.
    @discardableResult
    public func removeAll() throws -> [String] {
        let leftovers = try current()
        for ip in leftovers { try remove(ip) }
        return leftovers
    }

    static func parse(_ ip: String) throws -> IPv4Address {
        guard let address = IPv4Address(ip) else { throw OnekubeError(.invalidArgument, "not an IPv4 address for \(link): \(ip)") }
        return address
    }

    static func loopbackIndex(_ socket: NetlinkSocket) throws -> Int32 {
        guard let link = try socket.link(named: Self.link) else { throw OnekubeError(.notFound, "no \(Self.link) link in this network namespace") }
        return link.index
    }
}
