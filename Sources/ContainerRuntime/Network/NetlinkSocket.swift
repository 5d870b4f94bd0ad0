import CLinux
import Glibc
import Platform

/// A NETLINK_ROUTE socket: creates bridges and veth pairs, sets addresses, links and routes.
/// A socket stays bound to the network namespace it was opened in, which is how the helper
/// configures both ends of a container's veth pair from inside the new namespace.
public final class NetlinkSocket {
    let fd: Int32
    private var sequence: UInt32 = 0

    public init() throws(SystemError) {
        fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0 /* NETLINK_ROUTE */)
        guard fd >= 0 else { throw SystemError("socket", path: "netlink") }
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
        }
        guard bound == 0 else {
            let error = SystemError("bind", path: "netlink")
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    public struct Link: Sendable, Equatable {
        public var index: Int32
        public var name: String
        public var masterIndex: Int32?
        public var kind: String?
    }

    // MARK: links

    public func links() throws(SystemError) -> [Link] {
        let message = NetlinkMessage(type: NetlinkMessage.getLink, flags: NetlinkMessage.request | NetlinkMessage.dump,
                                     body: NetlinkMessage.ifinfo())
        var links: [Link] = []
        for (type, payload) in try transact(message, dump: true) where type == NetlinkMessage.newLink && payload.count >= 16 {
            let index: Int32 = Int32(bitPattern: NetlinkMessage.readLE(payload, at: 4, as: UInt32.self))
            var link = Link(index: index, name: "")
            for (attr, data) in NetlinkMessage.attributes(payload.dropFirst(16)) {
                switch attr {
                case NetlinkMessage.iflaIfname: link.name = NetlinkMessage.string(data)
                case NetlinkMessage.iflaMaster where data.count >= 4:
                    link.masterIndex = Int32(bitPattern: NetlinkMessage.readLE(data, at: 0, as: UInt32.self))
                case NetlinkMessage.iflaLinkinfo:
                    for (infoType, infoData) in NetlinkMessage.attributes(data) where infoType == NetlinkMessage.iflaInfoKind {
                        link.kind = NetlinkMessage.string(infoData)
                    }
                default: break
                }
            }
            links.append(link)
        }
        return links
    }

    public func link(named name: String) throws(SystemError) -> Link? {
        try links().first { $0.name == name }
    }

    /// Creates a bridge (EEXIST is an error the caller may accept).
    public func createBridge(_ name: String) throws(SystemError) {
        let body = NetlinkMessage.ifinfo()
            + NetlinkMessage.attribute(NetlinkMessage.iflaIfname, string: name)
            + NetlinkMessage.nest(NetlinkMessage.iflaLinkinfo, NetlinkMessage.attribute(NetlinkMessage.iflaInfoKind, string: "bridge"))
        try ack(NetlinkMessage(type: NetlinkMessage.newLink, flags: create, body: body), what: "create bridge", name: name)
    }

    /// Creates a veth pair: `name` here (enslaved to `masterIndex`), `peerName` moved into the
    /// network namespace open as `peerNamespaceFD`.
    public func createVethPair(_ name: String, masterIndex: Int32, peerName: String, peerNamespaceFD: Int32) throws(SystemError) {
        let peer = NetlinkMessage.ifinfo()
            + NetlinkMessage.attribute(NetlinkMessage.iflaIfname, string: peerName)
            + NetlinkMessage.attribute(NetlinkMessage.iflaNetNSFd, uint32: UInt32(bitPattern: peerNamespaceFD))
        let info = NetlinkMessage.attribute(NetlinkMessage.iflaInfoKind, string: "veth")
            + NetlinkMessage.nest(NetlinkMessage.iflaInfoData, NetlinkMessage.nest(NetlinkMessage.vethInfoPeer, peer))
        let body = NetlinkMessage.ifinfo(flags: NetlinkMessage.iffUp, change: NetlinkMessage.iffUp)
            + NetlinkMessage.attribute(NetlinkMessage.iflaIfname, string: name)
            + NetlinkMessage.attribute(NetlinkMessage.iflaMaster, uint32: UInt32(bitPattern: masterIndex))
            + NetlinkMessage.nest(NetlinkMessage.iflaLinkinfo, info)
        try ack(NetlinkMessage(type: NetlinkMessage.newLink, flags: create, body: body), what: "create veth", name: name)
    }

    public func setUp(index: Int32, name: String) throws(SystemError) {
        let body = NetlinkMessage.ifinfo(index: index, flags: NetlinkMessage.iffUp, change: NetlinkMessage.iffUp)
        try ack(NetlinkMessage(type: NetlinkMessage.newLink, flags: NetlinkMessage.request | NetlinkMessage.ack, body: body),
                what: "set link up", name: name)
    }

    public func deleteLink(index: Int32, name: String) throws(SystemError) {
        let body = NetlinkMessage.ifinfo(index: index)
        try ack(NetlinkMessage(type: NetlinkMessage.delLink, flags: NetlinkMessage.request | NetlinkMessage.ack, body: body),
                what: "delete link", name: name)
    }

    // MARK: addresses and routes

    /// Adds `address/prefix` to a link; an address it already has is fine. A `label` (which must
    /// start with the link's name, e.g. `lo:ok1234`) marks whose address it is.
    public func addAddress(_ address: IPv4Address, prefixLength: Int, index: Int32, name: String, label: String? = nil) throws(SystemError) {
        var body = NetlinkMessage.ifaddr(family: UInt8(AF_INET), prefixLength: UInt8(prefixLength), index: index)
        body += NetlinkMessage.attribute(NetlinkMessage.ifaLocal, address.bytes)
        body += NetlinkMessage.attribute(NetlinkMessage.ifaAddress, address.bytes)
        if let label { body += NetlinkMessage.attribute(NetlinkMessage.ifaLabel, string: label) }
        if prefixLength < 31 {
            let broadcast = IPv4Address(address.value | ~IPv4Network.mask(prefixLength))
            body += NetlinkMessage.attribute(NetlinkMessage.ifaBroadcast, broadcast.bytes)
        }
        do {
            try ack(NetlinkMessage(type: NetlinkMessage.newAddr, flags: create, body: body), what: "add address \(address)", name: name)
        } catch where error.errno == EEXIST {
            return
        }
    }

    public struct Address: Sendable, Equatable {
        public var address: IPv4Address
        public var prefixLength: Int
        public var index: Int32
        /// The IPv4 label (the link's name unless one was given).
        public var label: String
    }

    /// The IPv4 addresses of one link.
    public func addresses(index: Int32) throws(SystemError) -> [Address] {
        let message = NetlinkMessage(type: NetlinkMessage.getAddr, flags: NetlinkMessage.request | NetlinkMessage.dump,
                                     body: NetlinkMessage.ifaddr(family: UInt8(AF_INET), prefixLength: 0, index: 0))
        var result: [Address] = []
        for (type, payload) in try transact(message, dump: true, what: "list addresses") where type == NetlinkMessage.newAddr && payload.count >= 8 {
            let linkIndex = Int32(bitPattern: NetlinkMessage.readLE(payload, at: 4, as: UInt32.self))
            guard linkIndex == index, payload[payload.startIndex] == UInt8(AF_INET) else { continue }
            var local: IPv4Address?
            var label = ""
            for (attr, data) in NetlinkMessage.attributes(payload.dropFirst(8)) {
                switch attr {
                case NetlinkMessage.ifaLocal where data.count == 4:
                    local = IPv4Address(data.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
                case NetlinkMessage.ifaLabel: label = NetlinkMessage.string(data)
                default: break
                }
            }
            if let local { result.append(Address(address: local, prefixLength: Int(payload[payload.startIndex + 1]), index: linkIndex, label: label)) }
        }
        return result
    }

    /// Removes `address/prefix` from a link; with a `label`, only if the address carries it (the
    /// kernel compares).
    public func deleteAddress(_ address: IPv4Address, prefixLength: Int, index: Int32, name: String, label: String? = nil) throws(SystemError) {
        var body = NetlinkMessage.ifaddr(family: UInt8(AF_INET), prefixLength: UInt8(prefixLength), index: index)
        body += NetlinkMessage.attribute(NetlinkMessage.ifaLocal, address.bytes)
        body += NetlinkMessage.attribute(NetlinkMessage.ifaAddress, address.bytes)
        if let label { body += NetlinkMessage.attribute(NetlinkMessage.ifaLabel, string: label) }
        try ack(NetlinkMessage(type: NetlinkMessage.delAddr, flags: NetlinkMessage.request | NetlinkMessage.ack, body: body),
                what: "delete address \(address)", name: name)
    }

    public func addDefaultRoute(via gateway: IPv4Address) throws(SystemError) {
        let body = NetlinkMessage.rtmsg(family: UInt8(AF_INET), destinationLength: 0)
            + NetlinkMessage.attribute(NetlinkMessage.rtaGateway, gateway.bytes)
        try ack(NetlinkMessage(type: NetlinkMessage.newRoute, flags: create, body: body), what: "add default route via \(gateway)", name: "")
    }

    // MARK: transport

    private var create: UInt16 { NetlinkMessage.request | NetlinkMessage.ack | NetlinkMessage.create | NetlinkMessage.excl }

    private func ack(_ message: NetlinkMessage, what: String, name: String) throws(SystemError) {
        _ = try transact(message, dump: false, what: what, name: name)
    }

    /// Sends one request and reads until its ACK (or the end of a dump).
    private func transact(_ message: NetlinkMessage, dump: Bool, what: String = "request", name: String = "") throws(SystemError)
        -> [(type: UInt16, payload: ArraySlice<UInt8>)] {
        sequence &+= 1
        let bytes = message.encoded(sequence: sequence)
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { throw SystemError("netlink \(what)", path: name.isEmpty ? nil : name) }
        var collected: [(UInt16, ArraySlice<UInt8>)] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("netlink \(what)", path: name.isEmpty ? nil : name)
            }
            for (type, payload) in NetlinkMessage.split(Array(buffer[0..<n])) {
                switch type {
                case NetlinkMessage.error:
                    let code = Int32(bitPattern: NetlinkMessage.readLE(payload, at: 0, as: UInt32.self))
                    if code != 0 { throw SystemError("netlink \(what)", path: name.isEmpty ? nil : name, errno: -code) }
                    if !dump { return collected }
                case NetlinkMessage.done:
                    return collected
                default:
                    collected.append((type, payload))
                }
            }
        }
    }
}
