import CLinux
import Glibc
import Platform

/// A container's (or pod sandbox's) place on the bridge: a veth pair, `hostInterface` on the
/// bridge and `eth0` inside, with an address from the pod CIDR and the bridge as gateway.
public struct NetworkAttachment: Codable, Sendable, Equatable {
    public var bridge: String
    public var hostInterface: String
    public var address: IPv4Address
    public var prefixLength: Int
    public var gateway: IPv4Address

    public init(bridge: String, hostInterface: String, address: IPv4Address, prefixLength: Int, gateway: IPv4Address) {
        self.bridge = bridge
        self.hostInterface = hostInterface
        self.address = address
        self.prefixLength = prefixLength
        self.gateway = gateway
    }

    /// A host interface name for a new attachment: unique per start (the previous pair of a
    /// restarted container may still be being torn down by the kernel) and at most 15 bytes.
    public static func interfaceName(for id: String) -> String {
        "ok" + String(id.prefix(8)) + String(UInt32.random(in: 0..<(1 << 20)), radix: 16).leftPadded(to: 5)
    }

    /// Runs in the helper right after it unshared its network namespace: `hostSocket` was opened
    /// before, so it still speaks to the host's namespace.
    func attach(hostSocket: NetlinkSocket) throws(SystemError) {
        guard let bridgeLink = try hostSocket.link(named: bridge) else {
            throw SystemError("find bridge", path: bridge, errno: ENODEV)
        }
        let namespace = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)
        guard namespace >= 0 else { throw SystemError("open", path: "/proc/self/ns/net") }
        defer { close(namespace) }
        try hostSocket.createVethPair(hostInterface, masterIndex: bridgeLink.index, peerName: "eth0", peerNamespaceFD: namespace)

        let inside = try NetlinkSocket()
        let links = try inside.links()
        if let loopback = links.first(where: { $0.name == "lo" }) { try inside.setUp(index: loopback.index, name: "lo") }
        guard let eth0 = links.first(where: { $0.name == "eth0" }) else { throw SystemError("find link", path: "eth0", errno: ENODEV) }
        try inside.addAddress(address, prefixLength: prefixLength, index: eth0.index, name: "eth0")
        try inside.setUp(index: eth0.index, name: "eth0")
        try inside.addDefaultRoute(via: gateway)
    }

    /// Only loopback, for containers without a network.
    static func bringUpLoopback() throws(SystemError) {
        let inside = try NetlinkSocket()
        if let loopback = try inside.link(named: "lo") { try inside.setUp(index: loopback.index, name: "lo") }
    }
}

extension String {
    func leftPadded(to length: Int, with pad: Character = "0") -> String {
        count >= length ? self : String(repeating: pad, count: length - count) + self
    }
}
