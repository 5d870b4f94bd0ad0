/// Builds and parses rtnetlink messages (byte layouts from linux/netlink.h and rtnetlink.h).
struct NetlinkMessage {
    static let headerSize = 16

    // Message types and flags.
    static let newLink: UInt16 = 16, delLink: UInt16 = 17, getLink: UInt16 = 18
    static let newAddr: UInt16 = 20, delAddr: UInt16 = 21, getAddr: UInt16 = 22, newRoute: UInt16 = 24
    static let error: UInt16 = 2, done: UInt16 = 3
    static let request: UInt16 = 0x1, ack: UInt16 = 0x4, dump: UInt16 = 0x300
    static let excl: UInt16 = 0x200, create: UInt16 = 0x400

    // Attributes.
    static let iflaAddress: UInt16 = 1, iflaIfname: UInt16 = 3, iflaMTU: UInt16 = 4, iflaMaster: UInt16 = 10
    static let iflaLinkinfo: UInt16 = 18, iflaNetNSPid: UInt16 = 19, iflaNetNSFd: UInt16 = 28
    static let iflaInfoKind: UInt16 = 1, iflaInfoData: UInt16 = 2, vethInfoPeer: UInt16 = 1
    static let ifaAddress: UInt16 = 1, ifaLocal: UInt16 = 2, ifaLabel: UInt16 = 3, ifaBroadcast: UInt16 = 4
    static let rtaGateway: UInt16 = 5
    static let nested: UInt16 = 0x8000

    static let iffUp: UInt32 = 1

    var type: UInt16
    var flags: UInt16
    var body: [UInt8] = []

    /// struct ifinfomsg.
    static func ifinfo(family: UInt8 = 0, index: Int32 = 0, flags: UInt32 = 0, change: UInt32 = 0) -> [UInt8] {
        var bytes: [UInt8] = [family, 0, 0, 0]
        bytes += le(UInt32(bitPattern: index)) + le(flags) + le(change)
        return bytes
    }

    /// struct ifaddrmsg.
    static func ifaddr(family: UInt8, prefixLength: UInt8, index: Int32) -> [UInt8] {
        [family, prefixLength, 0, 0] + le(UInt32(bitPattern: index))
    }

    /// struct rtmsg for a unicast route in the main table.
    static func rtmsg(family: UInt8, destinationLength: UInt8) -> [UInt8] {
        // family, dst_len, src_len, tos, table=main, protocol=boot, scope=universe, type=unicast, flags
        [family, destinationLength, 0, 0, 254, 3, 0, 1] + le(UInt32(0))
    }

    static func attribute(_ type: UInt16, _ data: [UInt8]) -> [UInt8] {
        let length = 4 + data.count
        var bytes = le(UInt16(length)) + le(type) + data
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    static func attribute(_ type: UInt16, string: String) -> [UInt8] { attribute(type, Array(string.utf8) + [0]) }
    static func attribute(_ type: UInt16, uint32: UInt32) -> [UInt8] { attribute(type, le(uint32)) }
    static func nest(_ type: UInt16, _ children: [UInt8]) -> [UInt8] { attribute(type | nested, children) }

    func encoded(sequence: UInt32) -> [UInt8] {
        let length = UInt32(Self.headerSize + body.count)
        return Self.le(length) + Self.le(type) + Self.le(flags) + Self.le(sequence) + Self.le(UInt32(0)) + body
    }

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    static func readLE<T: FixedWidthInteger>(_ bytes: ArraySlice<UInt8>, at offset: Int, as: T.Type = T.self) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size {
            value |= T(bytes[bytes.startIndex + offset + i]) << (8 * i)
        }
        return value
    }

    /// Splits a datagram into messages: (type, payload after the header).
    static func split(_ datagram: [UInt8]) -> [(type: UInt16, payload: ArraySlice<UInt8>)] {
        var result: [(UInt16, ArraySlice<UInt8>)] = []
        var offset = 0
        while offset + headerSize <= datagram.count {
            let slice = datagram[offset...]
            let length = Int(readLE(slice, at: 0, as: UInt32.self))
            guard length >= headerSize, offset + length <= datagram.count else { break }
            let type: UInt16 = readLE(slice, at: 4)
            result.append((type, datagram[(offset + headerSize)..<(offset + length)]))
            offset += (length + 3) & ~3
        }
        return result
    }

    /// Attributes in `bytes` (after a fixed header): type (nested bit cleared) → data.
    static func attributes(_ bytes: ArraySlice<UInt8>) -> [(type: UInt16, data: ArraySlice<UInt8>)] {
        var result: [(UInt16, ArraySlice<UInt8>)] = []
        var offset = 0
        while offset + 4 <= bytes.count {
            let length = Int(readLE(bytes, at: offset, as: UInt16.self))
            let type = readLE(bytes, at: offset + 2, as: UInt16.self) & 0x3fff
            guard length >= 4, offset + length <= bytes.count else { break }
            let start = bytes.startIndex + offset + 4
            result.append((type, bytes[start..<(bytes.startIndex + offset + length)]))
            offset += (length + 3) & ~3
        }
        return result
    }

    static func string(_ data: ArraySlice<UInt8>) -> String {
        String(decoding: data.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
}
