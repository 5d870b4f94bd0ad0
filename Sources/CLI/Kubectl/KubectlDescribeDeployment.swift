import Foundation
import Platform

/// `kubectl describe` for deployments and endpoints, laid out as kubectl 1.32's describers write them.
enum KubectlDescribeDeployment {
    typealias Pod = KubectlDescribePod

    /// A Deployment, with its new and old (still scaled) ReplicaSets from `replicaSets`.
    static func deployment(_ object: OrderedJSON, replicaSets: [OrderedJSON], events: [OrderedJSON]) -> String {
        var w = GoTabWriter()
        let metadata = object["metadata"] ?? .object([])
        let spec = object["spec"] ?? .object([])
        let status = object["status"] ?? .object([])
        w.write("Name:\t\(metadata["name"]?.stringValue ?? "")\n")
        w.write("Namespace:\t\(metadata["namespace"]?.stringValue ?? "")\n")
        w.write("CreationTimestamp:\t\(Pod.rfc1123z(metadata["creationTimestamp"]?.stringValue ?? ""))\n")
        Pod.labels(&w, "Labels", metadata["labels"]?.stringMap ?? [:])
        Pod.annotations(&w, metadata["annotations"]?.stringMap ?? [:])
        w.write("Selector:\t\(KubectlDescribeWorkloads.labelSelector(spec["selector"]))\n")
        func count(_ key: String) -> Int64 { status[key]?.intValue ?? 0 }
        w.write("Replicas:\t\(spec["replicas"]?.intValue ?? 1) desired | \(count("updatedReplicas")) updated | \(count("replicas")) total | "
                + "\(count("availableReplicas")) available | \(count("unavailableReplicas")) unavailable\n")
        w.write("StrategyType:\t\(spec[path: ["strategy", "type"]]?.stringValue ?? "")\n")
        w.write("MinReadySeconds:\t\(spec["minReadySeconds"]?.intValue ?? 0)\n")
        if let rolling = spec[path: ["strategy", "rollingUpdate"]] {
            w.write("RollingUpdateStrategy:\t\(intOrString(rolling["maxUnavailable"])) max unavailable, \(intOrString(rolling["maxSurge"])) max surge\n")
        }
        KubectlDescribeWorkloads.podTemplate(&w, spec["template"])
        if let conditions = status["conditions"]?.arrayValue, !conditions.isEmpty {
            w.write("Conditions:\n  Type\tStatus\tReason\n")
            w.write("  ----\t------\t------\n")
            for condition in conditions {
                w.write("  \(condition["type"]?.stringValue ?? "") \t\(condition["status"]?.stringValue ?? "")\t\(condition["reason"]?.stringValue ?? "")\n")
            }
        }
        let uid = metadata["uid"]?.stringValue
        let revision = metadata[path: ["annotations", "deployment.kubernetes.io/revision"]]?.stringValue
        let owned = replicaSets.filter { set in
            (set[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).contains { $0["controller"]?.boolValue == true && $0["uid"]?.stringValue == uid }
        }
        // The new ReplicaSet is the one of the deployment's current revision; every other is old.
        let isNew = { (set: OrderedJSON) in set[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]]?.stringValue == revision }
        let old = owned.filter { !isNew($0) }
        w.write("OldReplicaSets:\t\(replicaSetList(old))\n")
        w.write("NewReplicaSet:\t\(replicaSetList(owned.filter(isNew).prefix(1).map { $0 }))\n")
        return KubectlDescribeWorkloads.finish(&w, events: events)
    }

    /// printReplicaSetsByLabels: `name (current/desired replicas created)`, or `<none>`.
    static func replicaSetList(_ sets: [OrderedJSON]) -> String {
        guard !sets.isEmpty else { return "<none>" }
        return sets.map { set in
            "\(set[path: ["metadata", "name"]]?.stringValue ?? "") (\(set[path: ["status", "replicas"]]?.intValue ?? 0)/\(set[path: ["spec", "replicas"]]?.intValue ?? 1) replicas created)"
        }.joined(separator: ", ")
    }

    /// An IntOrString as Go's String() prints it.
    static func intOrString(_ value: OrderedJSON?) -> String {
        switch value {
        case .int(let n)?: String(n)
        case .string(let s)?: s
        default: "0"
        }
    }

    /// An Endpoints object, subset by subset.
    static func endpoints(_ object: OrderedJSON, events: [OrderedJSON]) -> String {
        var w = GoTabWriter()
        let metadata = object["metadata"] ?? .object([])
        w.write("Name:\t\(metadata["name"]?.stringValue ?? "")\n")
        w.write("Namespace:\t\(metadata["namespace"]?.stringValue ?? "")\n")
        Pod.labels(&w, "Labels", metadata["labels"]?.stringMap ?? [:])
        Pod.annotations(&w, metadata["annotations"]?.stringMap ?? [:])
        w.write("Subsets:\n")
        for subset in object["subsets"]?.arrayValue ?? [] {
            func ips(_ key: String) -> String {
                let list = (subset[key]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }.joined(separator: ",")
                return list.isEmpty ? "<none>" : list
            }
            w.write("  Addresses:\t\(ips("addresses"))\n")
            w.write("  NotReadyAddresses:\t\(ips("notReadyAddresses"))\n")
            if let ports = subset["ports"]?.arrayValue, !ports.isEmpty {
                w.write("  Ports:\n")
                w.write("    Name\tPort\tProtocol\n")
                w.write("    ----\t----\t--------\n")
                for port in ports {
                    let name = port["name"]?.stringValue ?? ""
                    w.write("    \(name.isEmpty ? "<unset>" : name)\t\(port["port"]?.intValue ?? 0)\t\(port["protocol"]?.stringValue ?? "TCP")\n")
                }
            }
            w.write("\n")
        }
        return KubectlDescribeWorkloads.finish(&w, events: events)
    }
}
