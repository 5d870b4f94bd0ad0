import Foundation
import Platform

/// The pod that exec and port-forward talk to: `NAME` and `pod/NAME` name it; `TYPE/NAME` of
/// anything with a pod selector (a ReplicationController, Deployment, Service…) stands for its
/// most active pod, as kubectl's `attachablePodForObject` picks it.
struct KubectlPodSelection {
    let session: KubectlGlobalOptions.Session
    /// How long to wait for a selector to match a pod (`--pod-running-timeout`).
    let timeout: Duration

    /// The pod, and the object it was picked for (a Service for port-forward's port mapping).
    func resolve(_ argument: String) throws -> (pod: OrderedJSON, owner: OrderedJSON?) {
        let namespace = session.context.namespace
        let parts = argument.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return (try getPod(argument, namespace: namespace), nil) }
        if Self.podTypeNames.contains(parts[0].lowercased()) { return (try getPod(parts[1], namespace: namespace), nil) }
        let type = try session.discovery.find(parts[0])
        let object = try session.client.expect("GET", type.objectPath(namespace: namespace, name: parts[1]))
        let selector = try Self.selector(of: object, type: type, name: parts[1])
        return (try firstActivePod(selector, namespace: namespace), object)
    }

    /// What names pods without discovery (the session loads discovery only for other types).
    static let podTypeNames: Set<String> = ["po", "pod", "pods"]

    /// Whether resolving `argument` needs the server's resource types.
    static func needsDiscovery(_ argument: String) -> Bool {
        guard let slash = argument.firstIndex(of: "/") else { return false }
        return !podTypeNames.contains(argument[..<slash].lowercased())
    }

    func getPod(_ name: String, namespace: String) throws -> OrderedJSON {
        try session.client.expect("GET", "/api/v1/namespaces/\(namespace)/pods/\(name)")
    }

    /// The object's pod selector as a label selector query (`a=b,c in (d,e)`).
    static func selector(of object: OrderedJSON, type: ResourceDiscovery.ResourceType, name: String) throws -> String {
        let selector = object[path: ["spec", "selector"]]
        // Services and ReplicationControllers select with a plain map; the apps types with a LabelSelector.
        if type.group.isEmpty {
            guard let map = selector?.stringMap, !map.isEmpty else {
                if type.plural == "services" { throw KubectlError.message("error: invalid service '\(name)': Service is defined without a selector") }
                throw KubectlError.message("error: cannot attach to \(type.nameKind): selector for \(name) is empty")
            }
            return map.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
        guard let selector else {
            throw KubectlError.message("error: cannot attach to \(type.nameKind)/\(name): it selects no pods")
        }
        var requirements = (selector["matchLabels"]?.stringMap ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        for expression in selector["matchExpressions"]?.arrayValue ?? [] {
            let key = expression["key"]?.stringValue ?? ""
            let values = (expression["values"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
            switch expression["operator"]?.stringValue {
            case "In": requirements.append("\(key) in (\(values))")
            case "NotIn": requirements.append("\(key) notin (\(values))")
            case "Exists": requirements.append(key)
            case "DoesNotExist": requirements.append("!\(key)")
            default: continue
            }
        }
        return requirements.joined(separator: ",")
    }

    /// The most active of the selected pods, waiting up to `timeout` for one to exist.
    func firstActivePod(_ selector: String, namespace: String) throws -> OrderedJSON {
        let query = selector.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? selector
        let deadline = ContinuousClock.now + timeout
        while true {
            let list = try session.client.expect("GET", "/api/v1/namespaces/\(namespace)/pods?labelSelector=\(query)")
            let pods = list["items"]?.arrayValue ?? []
            if let best = pods.max(by: { Self.activity($0).lexicographicallyPrecedes(Self.activity($1)) }) { return best }
            guard ContinuousClock.now < deadline else { throw KubectlError.message("error: timed out waiting for the condition") }
            Thread.sleep(forTimeInterval: 1)
        }
    }

    /// kubectl's `ActivePods` order, most active last: scheduled, then Running over Unknown over
    /// Pending, ready, ready for longer, fewer restarts, older.
    static func activity(_ pod: OrderedJSON) -> [Int64] {
        let scheduled: Int64 = pod[path: ["spec", "nodeName"]]?.stringValue.map { $0.isEmpty ? 0 : 1 } ?? 0
        let phase: Int64 = ["Pending": 0, "Unknown": 1, "Running": 2][pod[path: ["status", "phase"]]?.stringValue ?? ""] ?? 0
        let ready = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Ready" }
        let isReady: Int64 = ready?["status"]?.stringValue == "True" ? 1 : 0
        let readySince = isReady == 1 ? -(Self.seconds(ready?["lastTransitionTime"]?.stringValue) ?? 0) : 0
        let restarts = (pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []).compactMap { $0["restartCount"]?.intValue }.max() ?? 0
        let created = Self.seconds(pod[path: ["metadata", "creationTimestamp"]]?.stringValue) ?? 0
        return [scheduled, phase, isReady, readySince, -restarts, -created]
    }

    /// A Go duration (`1m0s`, `30s`, `500ms`, `2h`), as kubectl's duration flags take it.
    static func duration(_ text: String) throws -> Duration {
        guard let seconds = GoDuration.seconds(text) else {
            throw KubectlError.message("error: invalid argument \"\(text)\" for \"--pod-running-timeout\" flag: time: invalid duration \"\(text)\"")
        }
        return .milliseconds(Int64(seconds * 1000))
    }

    static func seconds(_ timestamp: String?) -> Int64? {
        guard let timestamp, let date = ISO8601DateFormatter().date(from: timestamp) else { return nil }
        return Int64(date.timeIntervalSince1970)
    }
}
