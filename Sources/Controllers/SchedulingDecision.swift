import KubeModel
import Platform

/// The scheduler's pure part: which nodes can take a pod, and which of them is best. Messages are
/// the kube-scheduler's, so FailedScheduling reads as on a real cluster.
public enum SchedulingDecision {
    public struct NodeView: Sendable {
        public var node: OrderedJSON
        /// The non-terminal pods bound to the node.
        public var pods: [OrderedJSON]

        public init(node: OrderedJSON, pods: [OrderedJSON]) {
            self.node = node
            self.pods = pods
        }
    }

    public enum Outcome: Sendable, Equatable {
        case bind(String)
        case unschedulable(String)
    }

    public static func decide(_ pod: OrderedJSON, nodes: [NodeView]) -> Outcome {
        var reasons: [String: Int] = [:]
        var feasible: [NodeView] = []
        for view in nodes {
            if let reason = unfit(pod, on: view) {
                reasons[reason, default: 0] += 1
            } else {
                feasible.append(view)
            }
        }
        guard !feasible.isEmpty else {
            let parts = reasons.keys.sorted().map { "\(reasons[$0] ?? 0) \($0)" }
            return .unschedulable("0/\(nodes.count) nodes are available: \(parts.joined(separator: ", ")).")
        }
        let best = feasible.max { score(pod, $0) < score(pod, $1) || (score(pod, $0) == score(pod, $1) && $0.node.name > $1.node.name) }
        return .bind(best?.node.name ?? "")
    }

    /// The first filter a node fails, worded as kube-scheduler words it.
    public static func unfit(_ pod: OrderedJSON, on view: NodeView) -> String? {
        if let problem = unfitPlacement(pod, on: view.node) { return problem }
        return unfitResources(pod, on: view)
    }

    /// The filters about where a pod may go (taints, selector, affinity), not what it needs:
    /// what the DaemonSet controller asks of every node.
    static func unfitPlacement(_ pod: OrderedJSON, on node: OrderedJSON) -> String? {
        let tolerations = pod[path: ["spec", "tolerations"]]?.arrayValue ?? []
        if node[path: ["spec", "unschedulable"]]?.boolValue == true,
           !tolerates(tolerations, key: "node.kubernetes.io/unschedulable", value: "", effect: "NoSchedule") {
            return "node(s) were unschedulable"
        }
        for taint in node[path: ["spec", "taints"]]?.arrayValue ?? [] {
            let effect = taint["effect"]?.stringValue ?? ""
            guard effect == "NoSchedule" || effect == "NoExecute" else { continue }
            let key = taint["key"]?.stringValue ?? ""
            let value = taint["value"]?.stringValue ?? ""
            if !tolerates(tolerations, key: key, value: value, effect: effect) {
                return "node(s) had untolerated taint {\(key): \(value)}"
            }
        }
        let labels = node.labels
        if let selector = pod[path: ["spec", "nodeSelector"]]?.stringMap, !selector.allSatisfy({ labels[$0.key] == $0.value }) {
            return "node(s) didn't match Pod's node affinity/selector"
        }
        if let terms = pod[path: ["spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"]]?.arrayValue,
           !terms.isEmpty, !terms.contains(where: { term in matches(term, labels: labels, name: node.name) }) {
            return "node(s) didn't match Pod's node affinity/selector"
        }
        return nil
    }

    static func unfitResources(_ pod: OrderedJSON, on view: NodeView) -> String? {
        let allocatable = view.node[path: ["status", "allocatable"]]
        let requested = view.pods.reduce(PodRequests()) { sum, p in
            let r = PodRequests(pod: p)
            return PodRequests(milliCPU: sum.milliCPU + r.milliCPU, memory: sum.memory + r.memory)
        }
        let wants = PodRequests(pod: pod)
        if let maxPods = allocatable?["pods"].map({ Quantity.bytes($0) }), view.pods.count + 1 > maxPods {
            return "Too many pods"
        }
        if wants.milliCPU > 0, let cpu = allocatable?["cpu"], requested.milliCPU + wants.milliCPU > Quantity.milliCPU(cpu) {
            return "Insufficient cpu"
        }
        if wants.memory > 0, let memory = allocatable?["memory"], requested.memory + wants.memory > Quantity.bytes(memory) {
            return "Insufficient memory"
        }
        let used = Set(view.pods.flatMap(hostPorts))
        if !Set(hostPorts(pod)).isDisjoint(with: used) {
            return "node(s) didn't have free ports for the requested pod ports"
        }
        return nil
    }

    /// Least allocated, then spreading one owner's pods: higher is better.
    static func score(_ pod: OrderedJSON, _ view: NodeView) -> Double {
        let allocatable = view.node[path: ["status", "allocatable"]]
        let cpu = Double(max(Quantity.milliCPU(allocatable?["cpu"]), 1))
        let memory = Double(max(Quantity.bytes(allocatable?["memory"]), 1))
        let requested = view.pods.reduce(PodRequests(pod: pod)) { sum, p in
            let r = PodRequests(pod: p)
            return PodRequests(milliCPU: sum.milliCPU + r.milliCPU, memory: sum.memory + r.memory)
        }
        let leastAllocated = ((cpu - Double(requested.milliCPU)) / cpu + (memory - Double(requested.memory)) / memory) * 50
        let owner = pod.ownerReferences.first { $0.controller }?.uid
        let siblings = owner.map { uid in view.pods.filter { $0.ownerReferences.contains { $0.uid == uid } }.count } ?? 0
        let podCount = view.pods.count
        return leastAllocated - Double(siblings) * 10 - Double(podCount) * 0.1
    }

    static func hostPorts(_ pod: OrderedJSON) -> [String] {
        (pod[path: ["spec", "containers"]]?.arrayValue ?? []).flatMap { c in
            (c["ports"]?.arrayValue ?? []).compactMap { p in
                guard let host = p["hostPort"]?.intValue, host > 0 else { return nil }
                return "\(p["protocol"]?.stringValue ?? "TCP")/\(host)"
            }
        }
    }

    static func tolerates(_ tolerations: [OrderedJSON], key: String, value: String, effect: String) -> Bool {
        tolerations.contains { t in
            let tEffect = t["effect"]?.stringValue ?? ""
            guard tEffect.isEmpty || tEffect == effect else { return false }
            let op = t["operator"]?.stringValue ?? "Equal"
            let tKey = t["key"]?.stringValue ?? ""
            if op == "Exists" { return tKey.isEmpty || tKey == key }
            return tKey == key && (t["value"]?.stringValue ?? "") == value
        }
    }

    /// One nodeSelectorTerm: all its matchExpressions (and matchFields on metadata.name) hold.
    static func matches(_ term: OrderedJSON, labels: [String: String], name: String) -> Bool {
        let expressions = term["matchExpressions"]?.arrayValue ?? []
        let fields = term["matchFields"]?.arrayValue ?? []
        func holds(_ e: OrderedJSON, _ value: String?) -> Bool {
            let values = (e["values"]?.arrayValue ?? []).compactMap(\.stringValue)
            switch e["operator"]?.stringValue {
            case "In": return value.map(values.contains) ?? false
            case "NotIn": return value.map { !values.contains($0) } ?? true
            case "Exists": return value != nil
            case "DoesNotExist": return value == nil
            case "Gt": return (value.flatMap(Int64.init) ?? Int64.min) > (values.first.flatMap(Int64.init) ?? Int64.max)
            case "Lt": return (value.flatMap(Int64.init) ?? Int64.max) < (values.first.flatMap(Int64.init) ?? Int64.min)
            default: return false
            }
        }
        return expressions.allSatisfy { holds($0, labels[$0["key"]?.stringValue ?? ""]) }
            && fields.allSatisfy { holds($0, $0["key"]?.stringValue == "metadata.name" ? name : nil) }
    }
}
