import Foundation
import Glibc
import Platform
import TestSupport
import Testing

/// Services' traffic through the daemon's proxy and cluster DNS, backed by real containers from
/// the docker mode (kubia: busybox httpd answering "You've hit <hostname>"), with Services
/// without selector and Endpoints written through kubectl. Traffic goes only to 127.0.0.0/8,
/// the instance's own ClusterIPs on lo and its containers.
@Suite("Service traffic")
struct ServiceTrafficTests {
    /// A running kubia container: its bridge IP and hostname (what it answers).
    struct Backend {
        var ip: String
        var hostname: String
    }

    static func backend(_ onekube: OnekubeInstance, _ name: String) throws -> Backend {
        let run = try onekube.docker(["run", "-d", "--name", name, "luksa/kubia"])
        guard run.status == 0 else { throw TestFailure("docker run \(name): \(run)") }
        let fields = try onekube.docker(["inspect", "-f", "{{.NetworkSettings.IPAddress}} {{.Config.Hostname}}", name]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").map(String.init)
        guard fields.count == 2 else { throw TestFailure("inspect \(name): \(fields)") }
        let backend = Backend(ip: fields[0], hostname: fields[1])
        try waitUntil("httpd in \(name)") { (try? curl("\(backend.ip):8080")) == "You've hit \(backend.hostname)\n" }
        return backend
    }

    /// One HTTP GET with curl; throws with curl's exit status (7: refused, 56: reset, 28: timeout).
    static func curl(_ hostPort: String) throws -> String {
        let result = try Run.program("curl", ["-sS", "--max-time", "5", "http://\(hostPort)/"])
        guard result.status == 0 else { throw CurlFailure(status: result.status, stderr: result.stderr) }
        return result.stdout
    }

    /// curl's exit status for one GET (0 answered, 7 refused).
    static func curlStatus(_ hostPort: String) throws -> Int32 {
        try Run.program("curl", ["-sS", "--max-time", "5", "-o", "/dev/null", "http://\(hostPort)/"]).status
    }

    struct CurlFailure: Error, CustomStringConvertible {
        var status: Int32
        var stderr: String
        var description: String { "curl exit \(status): \(stderr)" }
    }

    /// A Service without selector (so the test's Endpoints stay as written) and its Endpoints.
    static func service(_ name: String, type: String = "ClusterIP", port: Int = 8080, affinity: Bool = false, endpoints: [String]) -> String {
        let addresses = endpoints.map { "      - ip: \($0)" }.joined(separator: "\n")
        let subsets = endpoints.isEmpty ? "subsets: []" : """
            subsets:
              - addresses:
            \(addresses)
                ports:
                  - port: 8080
            """
        return """
            apiVersion: v1
            kind: Service
            metadata:
              name: \(name)
            spec:
              type: \(type)
              sessionAffinity: \(affinity ? "ClientIP" : "None")
              ports:
                - port: \(port)
                  targetPort: 8080
            ---
            apiVersion: v1
            kind: Endpoints
            metadata:
              name: \(name)
            \(subsets)

            """
    }

    /// A listening socket on `host:port` (close it to free the port).
    static func listen(_ host: String, _ port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 4) == 0 else {
            close(fd)
            throw TestFailure("listen on \(host):\(port): errno \(errno)")
        }
        return fd
    }

    static func apply(_ onekube: OnekubeInstance, _ yaml: String) throws {
        let result = try onekube.kubectl(["apply", "-f", "-"], stdin: yaml)
        guard result.status == 0 else { throw TestFailure("kubectl apply: \(result)\n\(yaml)") }
    }

    static func field(_ onekube: OnekubeInstance, _ service: String, _ path: String) throws -> String {
        try onekube.kubectl(["get", "svc", service, "-o", "jsonpath={\(path)}"]).stdout
    }

    /// The service's ClusterIP, LoadBalancer address (once assigned) and NodePort.
    static func addresses(_ onekube: OnekubeInstance, _ service: String) throws -> (clusterIP: String, external: String, nodePort: String) {
        var external = ""
        try waitUntil("an EXTERNAL-IP for \(service)") {
            external = try field(onekube, service, ".status.loadBalancer.ingress[0].ip")
            return !external.isEmpty
        }
        return (try field(onekube, service, ".spec.clusterIP"), external, try field(onekube, service, ".spec.ports[0].nodePort"))
    }

    /// This instance's addresses on lo (`ip -4 addr show dev lo`, lines with its label).
    static func labelledAddresses(_ onekube: OnekubeInstance) throws -> [String] {
        let label = "lo:ok" + String(SHA256Hasher.hex(onekube.dataDirectory).prefix(8))
        return try Run.checked("ip", ["-4", "-o", "addr", "show", "dev", "lo"]).stdout.split(separator: "\n")
            .filter { $0.hasSuffix(label) || $0.contains(" \(label)") }
            .compactMap { line in line.split(separator: " ").first { $0.contains("/") }.map(String.init) }
    }

    /// The book's flow (section 2.3): the kubia RC exposed as a LoadBalancer answers on its
    /// EXTERNAL-IP from every replica, and pods reach it by name through cluster DNS.
    @Test func theBooksExposedReplicationControllerAnswersFromEveryReplica() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: PodTests.kubiaRC).status == 0)
        let exposed = try onekube.kubectl(["expose", "rc", "kubia", "--type=LoadBalancer", "--name", "kubia-http"])
        #expect(exposed.stdout == "service/kubia-http exposed\n", "\(exposed)")
        let service = try Self.addresses(onekube, "kubia-http")
        #expect(service.external == onekube.loadBalancerIP(1))
        var first = ""
        try waitUntil(timeout: 60, "the kubia pod runs") {
            first = try PodTests.readyPods(onekube, "app=kubia").first ?? ""
            return !first.isEmpty
        }
        try waitUntil("the LoadBalancer answers from the pod") { (try? Self.curl("\(service.external):8080")) == "You've hit \(first)\n" }

        #expect(try onekube.kubectl(["scale", "rc", "kubia", "--replicas=3"]).status == 0)
        var pods: [String] = []
        try waitUntil(timeout: 60, "three kubia pods run") {
            pods = try PodTests.readyPods(onekube, "app=kubia")
            return pods.count == 3
        }
        var answers = Set<String>()
        try waitUntil("answers from all three") {
            for _ in 0..<10 { if let answer = try? Self.curl("\(service.external):8080") { answers.insert(answer) } }
            return answers == Set(pods.map { "You've hit \($0)\n" })
        }
        #expect(try Self.curl("\(service.clusterIP):8080").hasPrefix("You've hit kubia-"))
        #expect(try Self.curl("127.0.0.1:\(service.nodePort)").hasPrefix("You've hit kubia-"))

        // A pod reaches the service by name: its resolv.conf names cluster DNS.
        let client = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: client
            spec:
              restartPolicy: Never
              containers:
              - name: client
                image: busybox
                command: ["sh", "-c", "wget -qO- http://kubia-http.default.svc.cluster.local:8080/ && nslookup kubia-http.default.svc.cluster.local"]
            """
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: client).status == 0)
        try waitUntil(timeout: 60, "the client pod finishes") {
            ["Succeeded", "Failed"].contains(try PodTests.jsonpath(onekube, ["get", "pod", "client", "-o", "jsonpath={.status.phase}"]))
        }
        let logs = try onekube.kubectl(["logs", "client"]).stdout
        #expect(logs.hasPrefix("You've hit kubia-") && logs.contains("Address: \(service.clusterIP)"), "\(logs)")
    }

    @Test func clusterIPLoadBalancerAndNodePortReachTheEndpointsAndFollowThem() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let one = try Self.backend(onekube, "one")
        let two = try Self.backend(onekube, "two")
        try Self.apply(onekube, Self.service("kubia", type: "LoadBalancer", endpoints: [one.ip]))
        // Someone else holds the second service's address and port at first: the proxy listens
        // once it is free.
        let squatter = try Self.listen(onekube.loadBalancerIP(2), 8080)
        try Self.apply(onekube, Self.service("other", type: "LoadBalancer", endpoints: [two.ip]))
        let kubia = try Self.addresses(onekube, "kubia")
        let other = try Self.addresses(onekube, "other")
        #expect(kubia.external == onekube.loadBalancerIP(1) && other.external == onekube.loadBalancerIP(2))
        Thread.sleep(forTimeInterval: 0.5)
        close(squatter)

        // Every way in answers from the endpoint; two LoadBalancers share port 8080.
        let hitOne = "You've hit \(one.hostname)\n"
        try waitUntil("the LoadBalancer address") { (try? Self.curl("\(kubia.external):8080")) == hitOne }
        #expect(try Self.curl("\(kubia.clusterIP):8080") == hitOne)
        #expect(try Self.curl("127.0.0.1:\(kubia.nodePort)") == hitOne)
        try waitUntil("the second LoadBalancer on the same port") { (try? Self.curl("\(other.external):8080")) == "You've hit \(two.hostname)\n" }
        // From inside a container, by ClusterIP.
        let inside = try onekube.docker(["run", "--rm", "busybox", "wget", "-qO-", "http://\(kubia.clusterIP):8080/"])
        #expect(inside.stdout == hitOne, "\(inside)")

        // A connection established before the endpoints change keeps its backend; new ones go
        // to the new endpoint.
        let held = try HeldRequest(host: kubia.external, port: 8080)
        try Self.apply(onekube, Self.service("kubia", type: "LoadBalancer", endpoints: [two.ip]))
        try waitUntil("new connections to the new endpoint") { (try? Self.curl("\(kubia.clusterIP):8080")) == "You've hit \(two.hostname)\n" }
        #expect(try held.finish().hasSuffix(hitOne), "the established connection still reaches the old endpoint")

        // No endpoints: refused at once, on every address.
        try Self.apply(onekube, Self.service("kubia", type: "LoadBalancer", endpoints: []))
        try waitUntil("refused") { try Self.curlStatus("\(kubia.external):8080") == 7 }
        for address in ["\(kubia.clusterIP):8080", "127.0.0.1:\(kubia.nodePort)"] {
            let started = Date()
            #expect(try Self.curlStatus(address) == 7, "\(address): connection refused")
            #expect(Date().timeIntervalSince(started) < 1, "\(address) refused at once")
        }
        #expect(try Self.curl("\(other.external):8080") == "You've hit \(two.hostname)\n", "the other service is untouched")
    }

    /// `--lb-address`: every LoadBalancer service gets the one address and answers there on its
    /// own port; a service wanting a port already taken on it stays `<pending>` until the holder
    /// goes. An address the host does not have stops `onekube start` with the reason.
    @Test func oneLoadBalancerAddressServesEveryServiceOnItsOwnPort() throws {
        let images = try ContainerRegistry()
        let elsewhere = try OnekubeInstance(start: false)
        do {
            try elsewhere.start(["--lb-address", "192.0.2.1"])
            Issue.record("onekube started with an --lb-address the host does not have")
        } catch {
            #expect("\(error)".contains("--lb-address 192.0.2.1 is not an address of this host"), "\(error)")
        }

        let onekube = try OnekubeInstance(start: false)
        let address = onekube.loadBalancerIP(200)
        try onekube.start(["--registry-mirror", "http://\(images.registry.host)", "--lb-address", address])
        let one = try Self.backend(onekube, "one")
        let two = try Self.backend(onekube, "two")
        try Self.apply(onekube, Self.service("kubia", type: "LoadBalancer", endpoints: [one.ip]))
        try Self.apply(onekube, Self.service("other", type: "LoadBalancer", port: 8081, endpoints: [two.ip]))
        #expect(try Self.addresses(onekube, "kubia").external == address)
        #expect(try Self.addresses(onekube, "other").external == address)
        let hitOne = "You've hit \(one.hostname)\n", hitTwo = "You've hit \(two.hostname)\n"
        try waitUntil("kubia on \(address):8080") { (try? Self.curl("\(address):8080")) == hitOne }
        try waitUntil("other on \(address):8081") { (try? Self.curl("\(address):8081")) == hitTwo }

        // Port 8080 is kubia's on that address: the late service waits, shown as kubectl shows it.
        try Self.apply(onekube, Self.service("late", type: "LoadBalancer", endpoints: [two.ip]))
        try waitUntil("late's ClusterIP") { !(try Self.field(onekube, "late", ".spec.clusterIP")).isEmpty }
        Thread.sleep(forTimeInterval: 1)
        #expect(try Self.field(onekube, "late", ".status.loadBalancer.ingress[0].ip") == "")
        let row = try onekube.kubectl(["get", "svc", "late", "--no-headers"]).stdout
        #expect(row.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first == "<pending>", "\(row)")
        #expect(try Self.curl("\(address):8080") == hitOne)

        // Once kubia goes, late gets the address and the port.
        #expect(try onekube.kubectl(["delete", "svc", "kubia"]).status == 0)
        #expect(try Self.addresses(onekube, "late").external == address)
        try waitUntil("late on \(address):8080") { (try? Self.curl("\(address):8080")) == hitTwo }
        #expect(try Self.curl("\(address):8081") == hitTwo)
    }

    @Test func roundRobinAndClientIPAffinity() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let one = try Self.backend(onekube, "one")
        let two = try Self.backend(onekube, "two")
        try Self.apply(onekube, Self.service("kubia", endpoints: [one.ip, two.ip]))
        let clusterIP = try Self.field(onekube, "kubia", ".spec.clusterIP")
        var answers = Set<String>()
        try waitUntil("answers from both endpoints") {
            if let answer = try? Self.curl("\(clusterIP):8080") { answers.insert(answer) }
            return answers.count == 2
        }
        #expect(answers == ["You've hit \(one.hostname)\n", "You've hit \(two.hostname)\n"])

        try Self.apply(onekube, Self.service("kubia", affinity: true, endpoints: [one.ip, two.ip]))
        try waitUntil("affinity applied") { try Self.field(onekube, "kubia", ".spec.sessionAffinity") == "ClientIP" }
        // Give the proxy its update, then every request from this client sticks to one backend.
        Thread.sleep(forTimeInterval: 0.5)
        let sticky = try (0..<6).map { _ in try Self.curl("\(clusterIP):8080") }
        #expect(Set(sticky).count == 1, "\(sticky)")
    }

    @Test func clusterDNSAnswersFromTheHostAndFromContainers() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let one = try Self.backend(onekube, "one")
        try Self.apply(onekube, Self.service("kubia", endpoints: [one.ip]))
        let clusterIP = try Self.field(onekube, "kubia", ".spec.clusterIP")
        let dns = onekube.serviceIP(10)
        #expect(try onekube.kubectl(["get", "svc", "-n", "kube-system", "kube-dns", "-o", "jsonpath={.spec.clusterIP}"]).stdout == dns)

        let name = "kubia.default.svc.cluster.local"
        var fromHost: ProcessResult?
        try waitUntil("an answer on \(dns)") {
            fromHost = try Run.program("busybox", ["nslookup", "-type=a", name, dns])
            return fromHost?.status == 0
        }
        #expect(fromHost?.stdout.contains("Address: \(clusterIP)") == true, "\(String(describing: fromHost))")
        let fromContainer = try onekube.docker(["run", "--rm", "busybox", "nslookup", "-type=a", name, dns])
        #expect(fromContainer.status == 0 && fromContainer.stdout.contains("Address: \(clusterIP)"), "\(fromContainer)")
        // The kubernetes service, over TCP this time.
        #expect(try DNSOverTCP.lookup("kubernetes.default.svc.cluster.local", server: dns) == [onekube.serviceIP(1)])
        // And the name then reaches the service from a container.
        let byName = try onekube.docker(["run", "--rm", "busybox", "sh", "-c",
                                         "wget -qO- http://$(nslookup -type=a \(name) \(dns) | awk '/^Address: / { a = $2 } END { print a }'):8080/"])
        #expect(byName.stdout == "You've hit \(one.hostname)\n", "\(byName)")
    }

    @Test func stopAndACrashLeaveNoAddressOrListener() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let one = try Self.backend(onekube, "one")
        try Self.apply(onekube, Self.service("kubia", type: "LoadBalancer", endpoints: [one.ip]))
        let kubia = try Self.addresses(onekube, "kubia")
        try waitUntil("the service") { (try? Self.curl("\(kubia.external):8080")) == "You've hit \(one.hostname)\n" }
        let expected = Set([onekube.serviceIP(1), onekube.serviceIP(10), kubia.clusterIP].map { $0 + "/32" })
        #expect(Set(try Self.labelledAddresses(onekube)) == expected)

        try onekube.stop()
        #expect(try Self.labelledAddresses(onekube).isEmpty)
        #expect(try Self.curlStatus("\(kubia.external):8080") == 7)
        #expect(try Self.curlStatus("127.0.0.1:\(kubia.nodePort)") == 7)

        // A crash leaves the addresses; the next start removes them (and any other with this
        // instance's label) before it binds.
        try onekube.start()
        try waitUntil("the addresses back") { Set(try Self.labelledAddresses(onekube)) == expected }
        let pid = try #require(onekube.pid)
        kill(pid, SIGKILL)
        try waitUntil("the daemon gone") { kill(pid, 0) != 0 }
        #expect(Set(try Self.labelledAddresses(onekube)) == expected, "kill -9 leaves them")
        let stray = onekube.serviceIP(77)
        let label = "lo:ok" + String(SHA256Hasher.hex(onekube.dataDirectory).prefix(8))
        _ = try Run.checked("ip", ["addr", "add", stray + "/32", "dev", "lo", "label", label])
        try onekube.start()
        try waitUntil("a clean set of addresses") { Set(try Self.labelledAddresses(onekube)) == expected }
        try onekube.stop()
        #expect(try Self.labelledAddresses(onekube).isEmpty)
        let lo = try Run.checked("ip", ["-4", "addr", "show", "dev", "lo"]).stdout
        #expect(!lo.contains(onekube.serviceIP(1) + "/") && !lo.contains(stray + "/"), "\(lo)")
    }

    /// The kubia RC with a readiness probe that fails once /tmp/unready exists.
    static let probedRC = """
        apiVersion: v1
        kind: ReplicationController
        metadata:
          name: kubia
        spec:
          replicas: 2
          selector:
            app: kubia
          template:
            metadata:
              labels:
                app: kubia
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: kubia
                image: luksa/kubia
                ports:
                - containerPort: 8080
                readinessProbe:
                  exec:
                    command: ["test", "!", "-e", "/tmp/unready"]
                  periodSeconds: 1
        """

    /// The ready and the not-ready addresses of a service's Endpoints.
    static func endpointIPs(_ onekube: OnekubeInstance, _ service: String) throws -> (ready: Set<String>, notReady: Set<String>) {
        let ready = try onekube.kubectl(["get", "ep", service, "-o", "jsonpath={.subsets[*].addresses[*].ip}"]).stdout
        let notReady = try onekube.kubectl(["get", "ep", service, "-o", "jsonpath={.subsets[*].notReadyAddresses[*].ip}"]).stdout
        return (Set(ready.split(separator: " ").map(String.init)), Set(notReady.split(separator: " ").map(String.init)))
    }

    static func podIP(_ onekube: OnekubeInstance, _ pod: String) throws -> String {
        try onekube.kubectl(["get", "pod", pod, "-o", "jsonpath={.status.podIP}"]).stdout
    }

    /// `count` requests in a row: every answer, or the first failure.
    static func answers(_ address: String, count: Int) throws -> [String] {
        try (0..<count).map { _ in try curl(address) }
    }

    /// Pods leave and join the rotation as Kubernetes' endpoints say: a connection held across a
    /// scale-up completes, a pod going unready gets no more requests, a deleted pod's endpoint goes
    /// and no request fails after that, and a deleted service's addresses and ports are free for
    /// the next service at once.
    @Test func theRotationFollowsReadinessScalingDeletionAndServiceRemoval() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: Self.probedRC).status == 0)
        #expect(try onekube.kubectl(["expose", "rc", "kubia", "--type=LoadBalancer", "--name", "kubia-http"]).status == 0)
        let service = try Self.addresses(onekube, "kubia-http")
        let external = "\(service.external):8080"
        var pods: [String] = []
        try waitUntil(timeout: 60, "two ready pods") {
            pods = try PodTests.readyPods(onekube, "app=kubia")
            return pods.count == 2
        }
        try waitUntil("both in the endpoints") { try Self.endpointIPs(onekube, "kubia-http").ready.count == 2 }
        try waitUntil("answers from both") {
            Set((try? Self.answers(external, count: 6)) ?? []) == Set(pods.map { "You've hit \($0)\n" })
        }

        // A connection made before the scale-up completes after it.
        let held = try HeldRequest(host: service.external, port: 8080)
        #expect(try onekube.kubectl(["scale", "rc", "kubia", "--replicas=3"]).status == 0)
        try waitUntil(timeout: 60, "three ready pods") {
            pods = try PodTests.readyPods(onekube, "app=kubia")
            return pods.count == 3
        }
        try waitUntil("answers from all three") {
            Set((try? Self.answers(external, count: 9)) ?? []) == Set(pods.map { "You've hit \($0)\n" })
        }
        let heldAnswer = try held.finish()
        #expect(heldAnswer.hasPrefix("HTTP/1.") && heldAnswer.contains("You've hit kubia-"), "\(heldAnswer)")

        // One pod turns unready: it leaves the endpoints (listed as not ready) and the rotation.
        let unready = pods[0]
        let unreadyIP = try Self.podIP(onekube, unready)
        #expect(try onekube.kubectl(["exec", unready, "--", "touch", "/tmp/unready"]).status == 0)
        try waitUntil("\(unready) not ready in the endpoints") {
            let ips = try Self.endpointIPs(onekube, "kubia-http")
            return !ips.ready.contains(unreadyIP) && ips.notReady.contains(unreadyIP)
        }
        let withoutUnready = try Self.answers(external, count: 10)
        #expect(!withoutUnready.contains("You've hit \(unready)\n") && Set(withoutUnready).count == 2, "\(withoutUnready)")

        // Another pod is deleted: once its endpoint is gone, every request is answered by the
        // remaining ready pod (the RC's replacement joins when ready).
        let deleted = pods[1]
        let deletedIP = try Self.podIP(onekube, deleted)
        #expect(try onekube.kubectl(["delete", "pod", deleted, "--wait=false"]).status == 0)
        try waitUntil("\(deleted)'s endpoint gone") { !(try Self.endpointIPs(onekube, "kubia-http").ready.contains(deletedIP)) }
        let afterDeletion = try Self.answers(external, count: 20)
        #expect(!afterDeletion.contains("You've hit \(deleted)\n") && !afterDeletion.contains("You've hit \(unready)\n"), "\(afterDeletion)")

        // The service goes: its listeners close at once, and a new service takes the same
        // ClusterIP, NodePort and LoadBalancer address straight away.
        #expect(try onekube.kubectl(["delete", "svc", "kubia-http"]).status == 0)
        try waitUntil("the LoadBalancer refuses") { try Self.curlStatus(external) == 7 }
        #expect(try Self.curlStatus("127.0.0.1:\(service.nodePort)") == 7)
        let again = """
            apiVersion: v1
            kind: Service
            metadata:
              name: again
            spec:
              type: LoadBalancer
              clusterIP: \(service.clusterIP)
              selector:
                app: kubia
              ports:
              - port: 8080
                nodePort: \(service.nodePort)
            """
        let created = try onekube.kubectl(["create", "-f", "-"], stdin: again)
        #expect(created.status == 0, "\(created)")
        let reused = try Self.addresses(onekube, "again")
        #expect(reused.clusterIP == service.clusterIP && reused.nodePort == service.nodePort && reused.external == service.external)
        try waitUntil("the new service answers") { (try? Self.curl(external))?.hasPrefix("You've hit kubia-") == true }
        #expect(try Self.curl("127.0.0.1:\(service.nodePort)").hasPrefix("You've hit kubia-"))
    }

    /// A UDP service relays datagrams both ways: a DNS service whose endpoint is the cluster DNS
    /// server answers lookups on its ClusterIP, LoadBalancer address and NodePort, from the host
    /// and from a container.
    @Test func udpServicesRelayDatagrams() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let dns = onekube.serviceIP(10)
        let manifest = """
            apiVersion: v1
            kind: Service
            metadata:
              name: resolver
            spec:
              type: LoadBalancer
              ports:
              - name: dns
                port: 53
                protocol: UDP
            ---
            apiVersion: v1
            kind: Endpoints
            metadata:
              name: resolver
            subsets:
            - addresses:
              - ip: \(dns)
              ports:
              - name: dns
                port: 53
                protocol: UDP
            """
        try Self.apply(onekube, manifest)
        let resolver = try Self.addresses(onekube, "resolver")
        let name = "kubernetes.default.svc.cluster.local"
        let expected = "Address: \(onekube.serviceIP(1))"
        for server in [resolver.clusterIP, resolver.external, "127.0.0.1:\(resolver.nodePort)"] {
            var answer: ProcessResult?
            try waitUntil("an answer through \(server)") {
                answer = try Run.program("busybox", ["nslookup", "-type=a", name, server])
                return answer?.status == 0
            }
            #expect(answer?.stdout.contains(expected) == true, "\(server): \(String(describing: answer))")
        }
        let fromContainer = try onekube.docker(["run", "--rm", "busybox", "nslookup", "-type=a", name, resolver.clusterIP])
        #expect(fromContainer.status == 0 && fromContainer.stdout.contains(expected), "\(fromContainer)")

        // Without endpoints nothing answers.
        try Self.apply(onekube, "apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: resolver\nsubsets: []\n")
        try waitUntil("no answer") {
            try Run.program("busybox", ["timeout", "3", "busybox", "nslookup", "-type=a", name, resolver.clusterIP]).status != 0
        }
    }

    /// The book leaves `docker run -p 8080:8080` running when it exposes the RC as a LoadBalancer
    /// on port 8080: the wildcard container port and the service's own address share the port,
    /// each answering for its address, while a second wildcard publication of it is refused.
    @Test func aPublishedContainerAndALoadBalancerShareAPort() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let port = 28080
        let published = try onekube.docker(["run", "-d", "--name", "published", "-p", "\(port):8080", "luksa/kubia"])
        #expect(published.status == 0, "\(published)")
        let container = try onekube.docker(["inspect", "-f", "{{.Config.Hostname}}", "published"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let one = try Self.backend(onekube, "one")
        try Self.apply(onekube, Self.service("kubia", type: "LoadBalancer", port: port, endpoints: [one.ip]))
        let kubia = try Self.addresses(onekube, "kubia")
        try waitUntil("the LoadBalancer on the published port") { (try? Self.curl("\(kubia.external):\(port)")) == "You've hit \(one.hostname)\n" }
        #expect(try Self.curl("127.0.0.1:\(port)") == "You've hit \(container)\n")
        #expect(try Self.curl("\(kubia.clusterIP):\(port)") == "You've hit \(one.hostname)\n")

        let second = try onekube.docker(["run", "-d", "--name", "second", "-p", "\(port):8080", "luksa/kubia"])
        #expect(second.status != 0 && second.stderr.contains("failed to bind host port for 0.0.0.0:\(port)") && second.stderr.contains("address already in use"),
                "\(second)")
        // Once the first container is gone, the port can be published again.
        #expect(try onekube.docker(["rm", "-f", "published"]).status == 0)
        let third = try onekube.docker(["run", "-d", "--name", "third", "-p", "\(port):8080", "luksa/kubia"])
        #expect(third.status == 0, "\(third)")
        #expect(try onekube.docker(["rm", "-f", "third"]).status == 0)
    }
}

/// An HTTP request sent but for its final blank line, finished later: a connection established
/// through the proxy before a change.
final class HeldRequest {
    let fd: Int32

    init(host: String, port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw TestFailure("connect \(host):\(port): errno \(errno)")
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        try send("GET / HTTP/1.0\r\nHost: held\r\n")
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else { throw TestFailure("write: errno \(errno)") }
    }

    /// Ends the request and reads the whole answer.
    func finish() throws -> String {
        try send("\r\n")
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw TestFailure("read: errno \(errno) after \(String(decoding: received, as: UTF8.self))") }
            if n == 0 { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }
}

/// A DNS A query over TCP (two-byte length framing), for the addresses in the answer.
enum DNSOverTCP {
    static func lookup(_ name: String, server: String) throws -> [String] {
        var query: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            query.append(UInt8(label.utf8.count))
            query += Array(label.utf8)
        }
        query += [0, 0, 1, 0, 1]
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(53).bigEndian)
        address.sin_addr.s_addr = inet_addr(server)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect \(server):53/tcp: errno \(errno)") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let framed = [UInt8(query.count >> 8), UInt8(query.count & 0xff)] + query
        _ = framed.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < 2 || received.count < 2 + (Int(received[0]) << 8 | Int(received[1])) {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { throw TestFailure("read from \(server):53/tcp: \(n), errno \(errno)") }
            received += buffer[0..<n]
        }
        let message = Array(received.dropFirst(2))
        guard message.count >= 12, message[0] == 0x12, message[1] == 0x34 else { throw TestFailure("bad answer \(message)") }
        let answers = Int(message[6]) << 8 | Int(message[7])
        // Skip the question (the name as sent, type, class), then read each answer's A data.
        var offset = 12 + query.count - 12
        var result: [String] = []
        for _ in 0..<answers {
            guard offset + 12 <= message.count else { break }
            offset += message[offset] & 0xC0 == 0xC0 ? 2 : name.utf8.count + 2
            let type = Int(message[offset]) << 8 | Int(message[offset + 1])
            let length = Int(message[offset + 8]) << 8 | Int(message[offset + 9])
            offset += 10
            if type == 1 && length == 4 && offset + 4 <= message.count {
                result.append(message[offset..<(offset + 4)].map(String.init).joined(separator: "."))
            }
            offset += length
        }
        return result
    }
}
