import Glibc
import Logging
import Platform

/// The host side of container networking: one bridge (the gateway of the pod CIDR) and the
/// address pool. Two daemons with different bridges and CIDRs do not touch each other's links.
public final class BridgeNetwork: Sendable {
    public let bridge: String
    public let network: IPv4Network
    public let addresses: IPAllocator
    let logger: Logger

    public init(bridge: String, network: IPv4Network, logger: Logger) {
        self.bridge = bridge
        self.network = network
        addresses = IPAllocator(network: network)
        self.logger = logger
    }

    /// Creates the bridge (or takes over one a previous run left), gives it the gateway address
    /// and brings it up; removes veths a crashed daemon left on it.
    public func setUp() throws {
        let socket = try NetlinkSocket()
        var link = try socket.link(named: bridge)
        if link == nil {
            do {
                try socket.createBridge(bridge)
            } catch {
                // Created concurrently: fine.
                if error.errno != EEXIST { throw error }
            }
            link = try socket.link(named: bridge)
        }
        guard let link else { throw SystemError("create bridge", path: bridge, errno: ENODEV) }
        guard link.kind == nil || link.kind == "bridge" else {
            throw OnekubeError(.conflict, "network interface \(bridge) exists and is not a bridge; choose another --bridge")
        }
        try socket.addAddress(network.gateway, prefixLength: network.prefixLength, index: link.index, name: bridge)
        try socket.setUp(index: link.index, name: bridge)
        for leftover in try socket.links() where leftover.masterIndex == link.index {
            logger.info("removing a leftover veth", metadata: ["interface": "\(leftover.name)"])
            try? socket.deleteLink(index: leftover.index, name: leftover.name)
        }
    }

    /// A new attachment with a free address (release it with `release`).
    public func attachment(for id: String) throws -> NetworkAttachment {
        let address = try addresses.allocate()
        return NetworkAttachment(bridge: bridge, hostInterface: NetworkAttachment.interfaceName(for: id), address: address,
                                 prefixLength: network.prefixLength, gateway: network.gateway)
    }

    /// Gives the address back. The veth pair needs no deleting: it goes with the container's
    /// network namespace, which the kernel tears down (asynchronously) once its last process is
    /// gone; deleting it here would add a synchronize_net to every container's exit.
    public func release(_ attachment: NetworkAttachment) {
        addresses.release(attachment.address)
    }

    /// Removes the bridge (at a clean stop).
    public func tearDown() {
        guard let socket = try? NetlinkSocket(), let link = try? socket.link(named: bridge) else { return }
        do {
            try socket.deleteLink(index: link.index, name: bridge)
        } catch {
            logger.warning("could not remove the bridge", metadata: ["bridge": "\(bridge)", "error": "\(error)"])
        }
    }
}
