import Synchronization

/// Hands out pod/container addresses from the pod CIDR: never the network, gateway or broadcast
/// address; round robin, so that an address just released is not reused at once (a late packet
/// or a stale ARP entry then cannot reach the wrong container).
public final class IPAllocator: Sendable {
    public let network: IPv4Network
    private let state: Mutex<(used: Set<IPv4Address>, next: UInt32)>

    public init(network: IPv4Network) {
        self.network = network
        state = Mutex((used: [], next: network.gateway.value + 1))
    }

    public func allocate() throws -> IPv4Address {
        let network = self.network
        return try state.withLock { state in
            let low = network.gateway.value + 1
            let high = network.broadcast.value - 1
            guard high >= low else { throw AllocationError(network: network) }
            let size = high - low + 1
            for offset in 0..<size {
                var candidate = state.next &+ offset
                if candidate > high || candidate < low { candidate = low + (candidate &- low) % size }
                let address = IPv4Address(candidate)
                if !state.used.contains(address) {
                    state.used.insert(address)
                    state.next = candidate == high ? low : candidate + 1
                    return address
                }
            }
            throw AllocationError(network: network)
        }
    }

    public func release(_ address: IPv4Address) {
        _ = state.withLock { $0.used.remove(address) }
    }

    public struct AllocationError: Error, CustomStringConvertible {
        public let network: IPv4Network
        public var description: String { "no free address left in \(network)" }
    }
}
