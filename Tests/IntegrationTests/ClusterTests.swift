import Foundation
import TestSupport
import Testing

@Suite("Nodes, scheduling and self-healing")
struct ClusterTests {
    static let examples = Fixtures.packageRoot + "/Resources/examples"

    @Test func podsSpreadAndComeBackWhenANodeDies() throws {
        let onekube = try OnekubeInstance(arguments: ["--nodes", "3", "--node-monitor-grace-period", "2", "--pod-eviction-timeout", "1"])
        let nodes = try onekube.kubectl(["get", "nodes", "-o", "name"]).stdout
        #expect(nodes == "node/onekube\nnode/onekube-m02\nnode/onekube-m03\n")
        #expect(try onekube.kubectl(["create", "-f", Self.examples + "/kubia-rc.yaml"]).status == 0)
        #expect(try onekube.kubectl(["scale", "rc", "kubia", "--replicas=6"]).status == 0)
        func placement() throws -> [String] {
            try onekube.kubectl(["get", "pods", "-o", "jsonpath={range .items[*]}{.spec.nodeName}{\"\\n\"}{end}"])
                .stdout.split(separator: "\n").map(String.init)
        }
        try waitUntil("six placed pods") { try placement().filter { !$0.isEmpty }.count == 6 }
        let placed = try placement()
        #expect(Set(placed) == ["onekube", "onekube-m02", "onekube-m03"], "\(placed)")

        let stop = try onekube.onekube(["node", "stop", "onekube-m02"])
        #expect(stop.stdout == "Successfully stopped node onekube-m02\n", "\(stop)")
        try waitUntil("NotReady") { try onekube.kubectl(["get", "node", "onekube-m02"]).stdout.contains("NotReady") }
        // The RC replaces the evicted pods on the nodes that still answer.
        try waitUntil("replacements elsewhere") {
            let live = try onekube.kubectl(["get", "pods", "-o", "jsonpath={range .items[*]}{.metadata.deletionTimestamp}/{.spec.nodeName}{\"\\n\"}{end}"])
                .stdout.split(separator: "\n").filter { $0.hasPrefix("/") }
            return live.count == 6 && !live.contains("/onekube-m02")
        }
        let events = try onekube.kubectl(["get", "events", "-A"]).stdout
        #expect(events.contains("NodeNotReady") && events.contains("TaintManagerEviction"), "\(events)")

        #expect(try onekube.onekube(["node", "start", "onekube-m02"]).status == 0)
        try waitUntil("Ready again") { try onekube.kubectl(["get", "node", "onekube-m02"]).stdout.contains(" Ready ") }
        // Its agent finishes the pods that were evicted while it was away.
        try waitUntil("no terminating pods") { !(try onekube.kubectl(["get", "pods"]).stdout.contains("Terminating")) }
        #expect(try onekube.onekube(["node", "add"]).stdout == "Adding node onekube-m04 to cluster onekube\n")
        try waitUntil("the new node") { try onekube.kubectl(["get", "node", "onekube-m04"]).stdout.contains(" Ready ") }
        #expect(try onekube.onekube(["node", "delete", "onekube-m04"]).status == 0)
        #expect(try onekube.kubectl(["get", "node", "onekube-m04"]).status == 1)
    }

    @Test func nodeSelectorSendsPodsToTheLabelledNode() throws {
        let onekube = try OnekubeInstance(arguments: ["--nodes", "3"])
        #expect(try onekube.kubectl(["label", "node", "onekube-m02", "ssd=true"]).status == 0)
        let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"fast"},"spec":{"nodeSelector":{"ssd":"true"},"containers":[{"name":"c","image":"busybox"}]}}"#
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: pod).status == 0)
        try waitUntil("scheduled") { try onekube.kubectl(["get", "pod", "fast", "-o", "jsonpath={.spec.nodeName}"]).stdout == "onekube-m02" }
        let nowhere = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"gpu"},"spec":{"nodeSelector":{"gpu":"true"},"containers":[{"name":"c","image":"busybox"}]}}"#
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: nowhere).status == 0)
        try waitUntil("FailedScheduling") {
            try onekube.kubectl(["describe", "pod", "gpu"]).stdout.contains("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.")
        }
    }
}
