import ContainerRuntime
import Testing

@Suite("Logs, addresses, signals, times, /etc files")
struct RuntimePiecesTests {
    let t0 = Timestamp(seconds: 1_795_768_642, nanoseconds: 5)

    @Test func logRoundTripsPartialLinesAndStreams() {
        var bytes: [UInt8] = []
        bytes += ContainerLog.encode(OutputChunk(stream: .stdout, bytes: Array("one\ntw".utf8), time: t0))
        bytes += ContainerLog.encode(OutputChunk(stream: .stdout, bytes: Array("o\n".utf8), time: t0))
        bytes += ContainerLog.encode(OutputChunk(stream: .stderr, bytes: Array("oops\n".utf8), time: t0))
        #expect(String(decoding: bytes, as: UTF8.self) == """
            2026-11-27T08:37:22.000000005Z stdout F one
            2026-11-27T08:37:22.000000005Z stdout P tw
            2026-11-27T08:37:22.000000005Z stdout F o
            2026-11-27T08:37:22.000000005Z stderr F oops

            """)
        let entries = ContainerLog.decode(bytes)
        #expect(entries.filter { $0.stream == .stdout }.flatMap(\.bytes) == Array("one\ntwo\n".utf8))
        #expect(entries.filter { $0.stream == .stderr }.flatMap(\.bytes) == Array("oops\n".utf8))
        #expect(ContainerLog.tail(entries, lines: 1).flatMap(\.bytes) == Array("oops\n".utf8))
        #expect(ContainerLog.tail(entries, lines: 2).flatMap(\.bytes) == Array("two\noops\n".utf8))
        #expect(ContainerLog.tail(entries, lines: 0).isEmpty)
        #expect(ContainerLog.tail(entries, lines: 10).count == 4)
    }

    @Test func timestampsAreRFC3339WithNanoseconds() {
        #expect(t0.rfc3339Nano == "2026-11-27T08:37:22.000000005Z")
        #expect(Timestamp(rfc3339: "2026-11-27T08:37:22.000000005Z") == t0)
        #expect(Timestamp(rfc3339: "2026-11-27T08:37:22.5Z") == Timestamp(seconds: 1_795_768_642, nanoseconds: 500_000_000))
        #expect(Timestamp(rfc3339: "2026-11-27T08:37:22Z") == Timestamp(seconds: 1_795_768_642))
        #expect(Timestamp(rfc3339: "yesterday") == nil)
    }

    @Test func addressesComeFromThePodCIDRRoundRobin() throws {
        let network = try #require(IPv4Network("10.244.0.0/29"))
        #expect(network.gateway.description == "10.244.0.1")
        #expect(network.broadcast.description == "10.244.0.7")
        let allocator = IPAllocator(network: network)
        let first = try (0..<5).map { _ in try allocator.allocate().description }
        #expect(first == ["10.244.0.2", "10.244.0.3", "10.244.0.4", "10.244.0.5", "10.244.0.6"])
        #expect(throws: IPAllocator.AllocationError.self) { try allocator.allocate() }
        allocator.release(try #require(IPv4Address("10.244.0.3")))
        #expect(try allocator.allocate().description == "10.244.0.3")
        #expect(IPv4Network("10.244.1.7/16")?.description == "10.244.0.0/16")
        #expect(IPv4Network("10.244.0.0/33") == nil)
        #expect(IPv4Network("10.300.0.0/16") == nil)
    }

    @Test func interfaceNamesFitTheKernelLimit() {
        let name = NetworkAttachment.interfaceName(for: String(repeating: "ab", count: 32))
        #expect(name.utf8.count <= 15)
        #expect(name.hasPrefix("okabababab"))
    }

    @Test(arguments: [("KILL", 9), ("SIGKILL", 9), ("9", 9), ("term", 15), ("SIGWINCH", 28), ("HUP", 1), ("RTMIN+1", 35)])
    func signalNames(name: String, number: Int32) {
        #expect(Signals.parse(name) == number)
    }

    @Test func unknownSignals() {
        #expect(Signals.parse("FOO") == nil)
        #expect(Signals.parse("0") == nil)
    }

    @Test func resolvConfDropsLoopbackServers() {
        #expect(EtcFiles.resolvConf(host: "nameserver 127.0.0.53\noptions edns0\n") == "options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n")
        #expect(EtcFiles.resolvConf(host: "search lan\nnameserver 10.0.0.1\n") == "search lan\nnameserver 10.0.0.1\n")
    }

    @Test func hostsNameTheContainer() {
        let hosts = EtcFiles.hosts(hostname: "abc123", address: "10.244.0.2")
        #expect(hosts.hasPrefix("127.0.0.1\tlocalhost\n"))
        #expect(hosts.hasSuffix("10.244.0.2\tabc123\n"))
    }

    @Test func containerNames() {
        #expect(ContainerNames.isValid("kubia-container"))
        #expect(ContainerNames.isValid("a.b_c-1"))
        #expect(!ContainerNames.isValid("a"))
        #expect(!ContainerNames.isValid("-a"))
        #expect(!ContainerNames.isValid("bad name!"))
        let id = ContainerNames.newID()
        #expect(id.count == 64 && id.allSatisfy { $0.isHexDigit })
        #expect(ContainerNames.random().contains("_"))
    }
}
