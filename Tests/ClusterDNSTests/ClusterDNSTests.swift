import Foundation
import Glibc
import Logging
import Platform
import Synchronization
import Testing
@testable import ClusterDNS

func json(_ text: String) throws -> OrderedJSON { try OrderedJSON(parsing: Array(text.utf8)) }

/// A query as resolvers send it: id, RD set, one question.
func query(_ name: String, type: UInt16 = 1, id: UInt16 = 0x1234) -> [UInt8] {
    var out: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
    DNSMessage.writeName(name, into: &out)
    out += [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
    return out
}

/// The response code and the answers' data (A as dotted quads, names as text).
func decode(_ response: [UInt8]) throws -> (code: Int, answers: [String], authority: Int) {
    let code = Int(response[3] & 0x0F)
    let answerCount = Int(response[6]) << 8 | Int(response[7])
    let authority = Int(response[8]) << 8 | Int(response[9])
    var offset = 12
    _ = try DNSMessage.readName(response, at: &offset)
    offset += 4
    var answers: [String] = []
    for _ in 0..<answerCount {
        _ = try DNSMessage.readName(response, at: &offset)
        let type = Int(response[offset]) << 8 | Int(response[offset + 1])
        let length = Int(response[offset + 8]) << 8 | Int(response[offset + 9])
        offset += 10
        switch type {
        case 1: answers.append(response[offset..<offset + length].map(String.init).joined(separator: "."))
        case 33:
            let port = Int(response[offset + 4]) << 8 | Int(response[offset + 5])
            var target = offset + 6
            answers.append("\(port) " + (try DNSMessage.readName(response, at: &target)))
        default:
            var target = offset
            answers.append(try DNSMessage.readName(response, at: &target))
        }
        offset += length
    }
    return (code, answers, authority)
}

struct Fixture {
    static let services: [String: String] = [
        "default/kubia-http": #"{"metadata":{"name":"kubia-http","namespace":"default"},"spec":{"clusterIP":"10.96.12.34","clusterIPs":["10.96.12.34"],"ports":[{"name":"http","port":80,"protocol":"TCP"}]}}"#,
        "default/db": #"{"metadata":{"name":"db","namespace":"default"},"spec":{"clusterIP":"None","ports":[{"port":5432}]}}"#,
        "default/search": #"{"metadata":{"name":"search","namespace":"default"},"spec":{"type":"ExternalName","externalName":"Search.Example.COM"}}"#,
    ]
    static let endpoints: [String: String] = [
        "default/db": #"{"subsets":[{"addresses":[{"ip":"10.244.0.5","hostname":"db-0"},{"ip":"10.244.0.6"}],"notReadyAddresses":[{"ip":"10.244.0.7"}]}]}"#,
    ]

    static var directory: ClusterDirectory {
        ClusterDirectory(
            service: { ns, name in services["\(ns)/\(name)"].flatMap { try? json($0) } },
            endpoints: { ns, name in endpoints["\(ns)/\(name)"].flatMap { try? json($0) } },
            namespaceExists: { ["default", "kube-system"].contains($0) },
            serviceWithClusterIP: { ip in ip == "10.96.12.34" ? try? json(services["default/kubia-http"] ?? "{}") : nil })
    }

    static var records: ClusterRecords { ClusterRecords(directory: directory) }

    static func ask(_ name: String, type: UInt16 = 1) throws -> (code: Int, answers: [String], authority: Int) {
        let responder = DNSResponder(records: records, upstream: UpstreamResolvers(servers: []), logger: Logger(label: "test"))
        let box = Mutex<[UInt8]>([])
        responder.respond(to: query(name, type: type)) { answer in box.withLock { $0 = answer } }
        return try decode(box.withLock { $0 })
    }
}


@Suite("Cluster DNS")
struct ClusterDNSTests {
    @Test func serviceNamesResolveToTheirClusterIP() throws {
        let answer = try Fixture.ask("kubia-http.default.svc.cluster.local")
        #expect(answer.code == 0 && answer.answers == ["10.96.12.34"])
        // Names are case-insensitive.
        #expect(try Fixture.ask("KUBIA-HTTP.Default.SVC.cluster.local").answers == ["10.96.12.34"])
    }

    @Test func headlessServicesAnswerWithReadyEndpoints() throws {
        #expect(try Fixture.ask("db.default.svc.cluster.local").answers == ["10.244.0.5", "10.244.0.6"])
        #expect(try Fixture.ask("db-0.db.default.svc.cluster.local").answers == ["10.244.0.5"])
        #expect(try Fixture.ask("db-9.db.default.svc.cluster.local").code == 3)
    }

    @Test func externalNamesAreCNAMEs() throws {
        #expect(try Fixture.ask("search.default.svc.cluster.local").answers == ["search.example.com"])
    }

    @Test func srvRecordsForNamedPorts() throws {
        #expect(try Fixture.ask("_http._tcp.kubia-http.default.svc.cluster.local", type: 33).answers == ["80 kubia-http.default.svc.cluster.local"])
        #expect(try Fixture.ask("_grpc._tcp.kubia-http.default.svc.cluster.local", type: 33).code == 3)
    }

    @Test func podNamesAndReverseLookups() throws {
        #expect(try Fixture.ask("10-244-0-9.default.pod.cluster.local").answers == ["10.244.0.9"])
        #expect(try Fixture.ask("34.12.96.10.in-addr.arpa", type: 12).answers == ["kubia-http.default.svc.cluster.local"])
    }

    @Test func missingNamesAreNXDOMAINAndOtherTypesNODATA() throws {
        let missing = try Fixture.ask("nope.default.svc.cluster.local")
        #expect(missing.code == 3 && missing.answers.isEmpty && missing.authority == 1)
        // A search-path expansion of a full name, as resolvers try them.
        #expect(try Fixture.ask("kubia-http.default.svc.cluster.local.default.svc.cluster.local").code == 3)
        let aaaa = try Fixture.ask("kubia-http.default.svc.cluster.local", type: 28)
        #expect(aaaa.code == 0 && aaaa.answers.isEmpty && aaaa.authority == 1)
        #expect(try Fixture.ask("default.svc.cluster.local").code == 0)
        #expect(try Fixture.ask("nowhere.svc.cluster.local").code == 3)
    }

    @Test func malformedQueriesAreRefusedCleanly() throws {
        #expect(throws: DNSParseError.truncated) { try DNSMessage.parseQuery([0x12, 0x34, 0x01]) }
        // A compression pointer that points at itself.
        let loop: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]
        #expect(throws: DNSParseError.pointerLoop) { try DNSMessage.parseQuery(loop) }
        let responder = DNSResponder(records: Fixture.records, upstream: UpstreamResolvers(servers: []), logger: Logger(label: "test"))
        let box = Mutex<[UInt8]>([])
        responder.respond(to: loop) { answer in box.withLock { $0 = answer } }
        let answer = box.withLock { $0 }
        #expect(answer.count == 12 && answer[0] == 0x12 && answer[1] == 0x34 && answer[3] & 0x0F == 1)
    }

    @Test func otherNamesGoUpstreamOverUDP() async throws {
        // An upstream that answers every A query with 192.0.2.1 (a documentation address; no
        // traffic leaves the host: both servers are on loopback).
        let upstream = DNSServer(host: "127.0.0.1", port: 0, records: ClusterRecords(domain: "example.org", directory: StaticDirectory.example),
                                 upstream: UpstreamResolvers(servers: []), logger: Logger(label: "upstream"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await upstream.run() }
            let upstreamPort = try await waitForPort(upstream)
            let server = DNSServer(host: "127.0.0.1", port: 0, records: Fixture.records,
                                   upstream: UpstreamResolvers(servers: [("127.0.0.1", UInt16(upstreamPort))]), logger: Logger(label: "dns"))
            group.addTask { try await server.run() }
            let port = try await waitForPort(server)
            let outside = try decode(try udpExchange(query("www.example.org"), port: port))
            #expect(outside.code == 3 && outside.authority == 1, "the upstream's own NXDOMAIN comes back")
            let inside = try decode(try udpExchange(query("kubia-http.default.svc.cluster.local"), port: port))
            #expect(inside.answers == ["10.96.12.34"])
            group.cancelAll()
        }
    }
}

enum StaticDirectory {
    static let example = ClusterDirectory(service: { _, _ in nil }, endpoints: { _, _ in nil }, namespaceExists: { _ in false },
                                          serviceWithClusterIP: { _ in nil })
}

func waitForPort(_ server: DNSServer) async throws -> Int {
    for _ in 0..<200 {
        if let port = server.localPort { return port }
        try await Task.sleep(for: .milliseconds(10))
    }
    throw DNSParseError.truncated
}

/// One query and its answer over a UDP socket on loopback.
func udpExchange(_ request: [UInt8], port: Int) throws -> [UInt8] {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(fd) }
    var timeout = timeval(tv_sec: 3, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    _ = send(fd, request, request.count, 0)
    var buffer = [UInt8](repeating: 0, count: 4096)
    let received = recv(fd, &buffer, buffer.count, 0)
    guard received > 0 else { throw DNSParseError.truncated }
    return Array(buffer[0..<received])
}
