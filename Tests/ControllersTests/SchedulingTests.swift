import Platform
import Testing
@testable import Controllers
@testable import KubeModel

func json(_ text: String) throws -> OrderedJSON { try OrderedJSON(parsing: Array(text.utf8)) }

@Suite("Scheduling decisions")
struct SchedulingTests {
    func node(_ name: String, cpu: String = "2", memory: String = "4Gi", labels: String = "{}", extra: String = "") throws -> SchedulingDecision.NodeView {
        SchedulingDecision.NodeView(node: try json(#"{"metadata":{"name":"\#(name)","labels":\#(labels)},"spec":{\#(extra)},"status":{"allocatable":{"cpu":"\#(cpu)","memory":"\#(memory)","pods":"110"}}}"#), pods: [])
    }

    func pod(_ spec: String = "") throws -> OrderedJSON {
        try json(#"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]\#(spec)}}"#)
    }

    @Test func nodeSelectorPicksTheLabelledNode() throws {
        let nodes = [try node("a"), try node("b", labels: #"{"ssd":"true"}"#), try node("c")]
        #expect(SchedulingDecision.decide(try pod(#","nodeSelector":{"ssd":"true"}"#), nodes: nodes) == .bind("b"))
    }

    @Test("unschedulable pods say why, as kube-scheduler does", arguments: [
        (#","containers":[{"name":"c","image":"i","resources":{"requests":{"memory":"8Gi"}}}]"#, "0/3 nodes are available: 3 Insufficient memory."),
        (#","containers":[{"name":"c","image":"i","resources":{"requests":{"cpu":"3"}}}]"#, "0/3 nodes are available: 3 Insufficient cpu."),
        (#","nodeSelector":{"gpu":"yes"}"#, "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."),
    ])
    func unschedulable(spec: String, message: String) throws {
        let nodes = [try node("a"), try node("b"), try node("c")]
        var p = try pod()
        let extra = try json("{" + spec.dropFirst() + "}")
        for (key, value) in extra.objectValue ?? [] { p[path: ["spec", key]] = value }
        #expect(SchedulingDecision.decide(p, nodes: nodes) == .unschedulable(message))
    }

    @Test func taintsNeedTolerations() throws {
        let tainted = try node("a", extra: #""taints":[{"key":"dedicated","value":"db","effect":"NoSchedule"}]"#)
        #expect(SchedulingDecision.decide(try pod(), nodes: [tainted]) == .unschedulable("0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: db}."))
        #expect(SchedulingDecision.decide(try pod(#","tolerations":[{"key":"dedicated","operator":"Equal","value":"db","effect":"NoSchedule"}]"#), nodes: [tainted]) == .bind("a"))
        let cordoned = try node("b", extra: #""unschedulable":true"#)
        #expect(SchedulingDecision.decide(try pod(), nodes: [cordoned]) == .unschedulable("0/1 nodes are available: 1 node(s) were unschedulable."))
    }

    @Test func replicasSpreadAcrossNodes() throws {
        let owner = #","ownerReferences":[{"apiVersion":"v1","kind":"ReplicationController","name":"r","uid":"u1","controller":true}]"#
        let sibling = try json(#"{"metadata":{"name":"s"\#(owner)},"spec":{"containers":[{"name":"c","image":"i"}]}}"#)
        var a = try node("a")
        a.pods = [sibling]
        let b = try node("b")
        let p = try json(#"{"metadata":{"name":"p"\#(owner)},"spec":{"containers":[{"name":"c","image":"i"}]}}"#)
        #expect(SchedulingDecision.decide(p, nodes: [a, b]) == .bind("b"))
    }

    @Test func requiredNodeAffinity() throws {
        let nodes = [try node("a", labels: #"{"zone":"x"}"#), try node("b", labels: #"{"zone":"y"}"#)]
        let affinity = #","affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"In","values":["y"]}]}]}}}"#
        var p = try pod()
        p[path: ["spec", "affinity"]] = try json("{" + affinity.dropFirst() + "}")["affinity"]
        #expect(SchedulingDecision.decide(p, nodes: nodes) == .bind("b"))
    }

    @Test("quantities", arguments: [("500m", 0.5), ("1", 1.0), ("128Mi", 134_217_728), ("1G", 1e9), ("2e3", 2000), ("1.5Gi", 1_610_612_736)])
    func quantities(text: String, value: Double) {
        #expect(Quantity.parse(text) == value)
    }

    @Test func podDeletionOrderPrefersTheLeastEstablished() throws {
        let running = try json(#"{"metadata":{"name":"run","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"nodeName":"n"},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}"#)
        let pending = try json(#"{"metadata":{"name":"pend","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"nodeName":"n"},"status":{"phase":"Pending"}}"#)
        let unscheduled = try json(#"{"metadata":{"name":"none","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{},"status":{"phase":"Pending"}}"#)
        #expect(ReplicaSetController.deletionOrder([running, pending, unscheduled]).map(\.name) == ["none", "pend", "run"])
    }
}
