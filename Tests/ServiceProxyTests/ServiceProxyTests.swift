import Foundation
import Logging
import ObjectStore
import Platform
import SQLite
import Synchronization
import Testing
@testable import ServiceProxy

/// Records what the proxy opens and closes instead of binding sockets.
final class FakeListeners: ListenerFactory, LocalAddresses, Sendable {
    struct Listener: PortListener {
        let address: String
        let owner: FakeListeners
        func stop() async { owner.open.withLock { _ = $0.removeValue(forKey: address) } }
    }
    let open = Mutex<[String: ServiceBackends]>([:])
    let local = Mutex<Set<String>>([])
    let refused: Mutex<Set<String>>

    init(refusing refused: Set<String> = []) { self.refused = Mutex(refused) }

    func listen(host: String, port: Int, transport: Transport, backends: ServiceBackends) async throws -> PortListener {
        let address = transport == .tcp ? "\(host):\(port)" : "\(host):\(port)/udp"
        if refused.withLock({ $0.contains(address) }) { throw POSIXError(.EADDRINUSE) }
        open.withLock { $0[address] = backends }
        return Listener(address: address, owner: self)
    }

    func add(_ ip: String) throws { local.withLock { _ = $0.insert(ip) } }
    func remove(_ ip: String) throws { local.withLock { _ = $0.remove(ip) } }

    var addresses: Set<String> { open.withLock { Set($0.keys) } }
    func backends(_ address: String) -> [String] { open.withLock { $0[address] }?.order(for: nil).map(\.description) ?? [] }
}

@Suite("The service proxy follows services and endpoints")
struct ServiceProxyTests {
    func json(_ text: String) throws -> OrderedJSON { try OrderedJSON(parsing: Array(text.utf8)) }

    func wait(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<300 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test func listenersFollowTheServiceAndItsEndpoints() async throws {
        let directory = NSTemporaryDirectory() + "onekube-proxy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try ObjectStore(database: SQLiteDatabase(path: directory + "/state.db"), logger: Logger(label: "test"))
        let serviceKey = ObjectKey(resource: "services", namespace: "default", name: "kubia-http")
        let endpointsKey = ObjectKey(resource: "endpoints", namespace: "default", name: "kubia-http")
        try store.create(serviceKey, try json(#"""
            {"metadata":{"name":"kubia-http","namespace":"default"},
             "spec":{"type":"LoadBalancer","clusterIP":"10.96.7.7","clusterIPs":["10.96.7.7"],
                     "ports":[{"name":"http","port":8080,"protocol":"TCP","targetPort":8080,"nodePort":30080},
                              {"name":"dns","port":53,"protocol":"UDP","targetPort":53}]},
             "status":{"loadBalancer":{"ingress":[{"ip":"127.0.1.1"}]}}}
            """#))
        let fake = FakeListeners(refusing: ["127.0.0.1:30080"])
        let proxy = ServiceProxy(store: store, factory: fake, addresses: fake, nodeAddresses: ["127.0.0.1", "10.88.0.1"], logger: Logger(label: "proxy"))
        let task = Task { try await proxy.run() }

        // No endpoints yet: the ClusterIP is made local (so connecting is refused by the kernel,
        // not routed away) but nothing listens.
        try await wait("the ClusterIP on lo") { fake.local.withLock { $0 } == ["10.96.7.7"] }
        #expect(fake.addresses.isEmpty, "no endpoints: nothing listens")

        // A port in use on one address does not keep the others from listening; UDP ports get
        // listeners of their own.
        try store.create(endpointsKey, try json(#"""
            {"metadata":{"name":"kubia-http","namespace":"default"},
             "subsets":[{"addresses":[{"ip":"10.244.0.5"},{"ip":"10.244.0.6"}],
                         "ports":[{"name":"http","port":8080},{"name":"dns","port":5353,"protocol":"UDP"}]}]}
            """#))
        try await wait("five listeners") {
            fake.addresses == ["10.96.7.7:8080", "127.0.1.1:8080", "10.88.0.1:30080", "10.96.7.7:53/udp", "127.0.1.1:53/udp"]
        }
        #expect(fake.backends("127.0.1.1:8080").count == 2)
        #expect(Set(fake.backends("10.96.7.7:53/udp")) == ["10.244.0.5:5353", "10.244.0.6:5353"])
        #expect(Set(fake.backends("10.96.7.7:8080")) == ["10.244.0.5:8080", "10.244.0.6:8080"])
        #expect(fake.local.withLock { $0 } == ["10.96.7.7"], "node and LoadBalancer addresses are the host's already")
        // The port in use comes free: the proxy tries again by itself.
        fake.refused.withLock { $0 = [] }
        try await wait("the freed port") { fake.addresses.contains("127.0.0.1:30080") }

        // The endpoints go away: the listeners close, the ClusterIP stays.
        try store.update(endpointsKey) { current in
            var next = current.value
            next["subsets"] = .array([])
            return next
        }
        try await wait("no listeners") { fake.addresses.isEmpty }
        #expect(fake.local.withLock { $0 } == ["10.96.7.7"])
        try store.update(endpointsKey) { current in
            var next = current.value
            next["subsets"] = try json(#"[{"addresses":[{"ip":"10.244.0.7"}],"ports":[{"name":"http","port":8080}]}]"#)
            return next
        }
        try await wait("listening again") { fake.backends("127.0.1.1:8080") == ["10.244.0.7:8080"] }

        // Back to ClusterIP: the LoadBalancer and NodePort listeners close.
        try store.update(serviceKey) { current in
            var next = current.value
            next[path: ["spec", "type"]] = .string("ClusterIP")
            return next
        }
        try await wait("only the ClusterIP") { fake.addresses == ["10.96.7.7:8080"] }
        #expect(fake.local.withLock { $0 } == ["10.96.7.7"])

        try store.delete(serviceKey)
        try await wait("nothing") { fake.addresses.isEmpty && fake.local.withLock { $0 }.isEmpty }
        task.cancel()
        _ = try? await task.value
    }
}
