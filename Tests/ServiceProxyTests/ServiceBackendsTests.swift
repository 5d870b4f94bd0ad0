import Foundation
import Platform
import Testing
@testable import ServiceProxy

@Suite("Service backends")
struct ServiceBackendsTests {
    let a = ServiceEndpoint(ip: "10.244.0.5", port: 8080)
    let b = ServiceEndpoint(ip: "10.244.1.6", port: 8080)
    let c = ServiceEndpoint(ip: "10.244.2.7", port: 8080)

    @Test func roundRobinWithTheRestAsFallbacks() {
        let backends = ServiceBackends()
        backends.update(endpoints: [a, b, c], clientAffinity: false)
        #expect(backends.order(for: "127.0.0.1") == [a, b, c])
        #expect(backends.order(for: "127.0.0.1") == [b, c, a])
        #expect(backends.order(for: "127.0.0.1") == [c, a, b])
        #expect(backends.order(for: nil) == [a, b, c])
    }

    @Test func clientAffinityKeepsAClientOnItsBackendUntilItGoes() throws {
        let backends = ServiceBackends()
        backends.update(endpoints: [a, b, c], clientAffinity: true, affinityTimeout: 60)
        let start = Date(timeIntervalSince1970: 1_000_000)
        let first = try #require(backends.order(for: "127.0.0.2", now: start).first)
        #expect(backends.order(for: "127.0.0.2", now: start.addingTimeInterval(30)).first == first)
        #expect(backends.order(for: "127.0.0.3", now: start).first != first, "another client gets the next one")
        // Past the timeout the client is balanced again.
        #expect(backends.order(for: "127.0.0.2", now: start.addingTimeInterval(200)).first != first)
        // A backend that leaves is forgotten.
        let sticky = try #require(backends.order(for: "127.0.0.4", now: start).first)
        backends.update(endpoints: [a, b, c].filter { $0 != sticky }, clientAffinity: true, affinityTimeout: 60)
        #expect(backends.order(for: "127.0.0.4", now: start).first != sticky)
    }

    @Test func noEndpointsMeansNothingToTry() {
        let backends = ServiceBackends()
        #expect(backends.order(for: nil).isEmpty)
        backends.update(endpoints: [a], clientAffinity: false)
        backends.update(endpoints: [], clientAffinity: false)
        #expect(backends.isEmpty && backends.order(for: nil).isEmpty)
    }

    @Test func endpointsByServicePortName() throws {
        let endpoints = try OrderedJSON(parsing: Array(#"""
            {"subsets":[
              {"addresses":[{"ip":"10.244.0.5"},{"ip":"10.244.0.6"}],"notReadyAddresses":[{"ip":"10.244.0.9"}],
               "ports":[{"name":"http","port":8080},{"name":"metrics","port":9090}]},
              {"addresses":[{"ip":"10.244.1.7"}],"ports":[{"name":"http","port":8081}]}]}
            """#.utf8))
        #expect(ServiceEndpoint.ready(in: endpoints, portName: "http").map(\.description) == ["10.244.0.5:8080", "10.244.0.6:8080", "10.244.1.7:8081"])
        #expect(ServiceEndpoint.ready(in: endpoints, portName: "metrics").map(\.description) == ["10.244.0.5:9090", "10.244.0.6:9090"])
        let unnamed = try OrderedJSON(parsing: Array(#"{"subsets":[{"addresses":[{"ip":"10.244.0.5"}],"ports":[{"port":80}]}]}"#.utf8))
        #expect(ServiceEndpoint.ready(in: unnamed, portName: "").map(\.description) == ["10.244.0.5:80"])
        #expect(ServiceEndpoint.ready(in: nil, portName: "").isEmpty)
    }
}
