import Foundation
import KubeModel
import Platform

/// `kubectl describe` for replication controllers, replica sets, services and namespaces, laid
/// out as kubectl 1.32's describers write them.
enum KubectlDescribeWorkloads {
    typealias Pod = KubectlDescribePod

    /// A ReplicationController or ReplicaSet, with the phases of the pods it owns.
    static func controller(_ object: OrderedJSON, pods: [OrderedJSON], events: [OrderedJSON]) -> String {
        var w = GoTabWriter()
        let metadata = object["metadata"] ?? .object([])
        let isReplicaSet = object["kind"]?.stringValue == "ReplicaSet"
        w.write("Name:\t\(metadata["name"]?.stringValue ?? "")\n")
        w.write("Namespace:\t\(metadata["namespace"]?.stringValue ?? "")\n")
        let selector = isReplicaSet ? labelSelector(object[path: ["spec", "selector"]]) : formatLabels(object[path: ["spec", "selector"]]?.stringMap ?? [:])
        w.write("Selector:\t\(selector)\n")
        Pod.labels(&w, "Labels", metadata["labels"]?.stringMap ?? [:])
        Pod.annotations(&w, metadata["annotations"]?.stringMap ?? [:])
        if isReplicaSet, let owner = (metadata["ownerReferences"]?.arrayValue ?? []).first(where: { $0["controller"]?.boolValue == true }) {
            w.write("Controlled By:\t\(owner["kind"]?.stringValue ?? "")/\(owner["name"]?.stringValue ?? "")\n")
        }
        w.write("Replicas:\t\(object[path: ["status", "replicas"]]?.intValue ?? 0) current / \(object[path: ["spec", "replicas"]]?.intValue ?? 1) desired\n")
        let uid = metadata["uid"]?.stringValue
        let owned = pods.filter { pod in
            (pod[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).contains { $0["controller"]?.boolValue == true && $0["uid"]?.stringValue == uid }
        }
        func count(_ phase: String) -> Int { owned.filter { $0[path: ["status", "phase"]]?.stringValue == phase }.count }
        w.write("Pods Status:\t\(count("Running")) Running / \(count("Pending")) Waiting / \(count("Succeeded")) Succeeded / \(count("Failed")) Failed\n")
        podTemplate(&w, object[path: ["spec", "template"]])
        return finish(&w, events: events)
    }

    /// kubectl's DescribePodTemplate.
    static func podTemplate(_ w: inout GoTabWriter, _ template: OrderedJSON?) {
        w.write("Pod Template:\n")
        guard let template else {
            w.write("  <unset>")
            return
        }
        Pod.labels(&w, "  Labels", template[path: ["metadata", "labels"]]?.stringMap ?? [:])
        if let annotations = template[path: ["metadata", "annotations"]]?.stringMap, !annotations.isEmpty {
            w.write("  ")
            Pod.annotations(&w, annotations)
        }
        let spec = template["spec"] ?? .object([])
        if let account = spec["serviceAccountName"]?.stringValue, !account.isEmpty { w.write("  Service Account:\t\(account)\n") }
        if let initContainers = spec["initContainers"]?.arrayValue, !initContainers.isEmpty {
            Pod.containers(&w, "Init Containers", initContainers, statuses: [], space: "  ")
        }
        Pod.containers(&w, "Containers", spec["containers"]?.arrayValue ?? [], statuses: [], space: "  ")
        Pod.volumes(&w, spec["volumes"]?.arrayValue ?? [], space: "  ")
        if let priority = spec["priorityClassName"]?.stringValue, !priority.isEmpty { w.write("  Priority Class Name:\t\(priority)\n") }
        Pod.labels(&w, "  Node-Selectors", spec["nodeSelector"]?.stringMap ?? [:])
        Pod.tolerations(&w, spec["tolerations"]?.arrayValue ?? [], title: "  Tolerations")
    }

    static func service(_ service: OrderedJSON, slices: [OrderedJSON], events: [OrderedJSON]) -> String {
        var w = GoTabWriter()
        let metadata = service["metadata"] ?? .object([])
        let spec = service["spec"] ?? .object([])
        w.write("Name:\t\(metadata["name"]?.stringValue ?? "")\n")
        w.write("Namespace:\t\(metadata["namespace"]?.stringValue ?? "")\n")
        Pod.labels(&w, "Labels", metadata["labels"]?.stringMap ?? [:])
        Pod.annotations(&w, metadata["annotations"]?.stringMap ?? [:])
        w.write("Selector:\t\(formatLabels(spec["selector"]?.stringMap ?? [:]))\n")
        w.write("Type:\t\(spec["type"]?.stringValue ?? "")\n")
        if let policy = spec["ipFamilyPolicy"]?.stringValue { w.write("IP Family Policy:\t\(policy)\n") }
        let families = spec["ipFamilies"]?.arrayValue?.compactMap(\.stringValue) ?? []
        w.write("IP Families:\t\(families.isEmpty ? "<none>" : families.joined(separator: ","))\n")
        w.write("IP:\t\(spec["clusterIP"]?.stringValue ?? "")\n")
        let ips = spec["clusterIPs"]?.arrayValue?.compactMap(\.stringValue) ?? []
        w.write("IPs:\t\(ips.isEmpty ? "<none>" : ips.joined(separator: ","))\n")
        if let external = spec["externalIPs"]?.arrayValue?.compactMap(\.stringValue), !external.isEmpty {
            w.write("External IPs:\t\(external.joined(separator: ","))\n")
        }
        if let requested = spec["loadBalancerIP"]?.stringValue, !requested.isEmpty { w.write("IP:\t\(requested)\n") }
        if let name = spec["externalName"]?.stringValue, !name.isEmpty { w.write("External Name:\t\(name)\n") }
        let ingress = service[path: ["status", "loadBalancer", "ingress"]]?.arrayValue ?? []
        if !ingress.isEmpty {
            let list = ingress.map { entry -> String in
                var text = entry["ip"]?.stringValue ?? entry["hostname"]?.stringValue ?? ""
                if let mode = entry["ipMode"]?.stringValue { text += " (\(mode))" }
                return text
            }
            w.write("LoadBalancer Ingress:\t\(list.joined(separator: ", "))\n")
        }
        for port in spec["ports"]?.arrayValue ?? [] {
            let name = port["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "<unset>"
            let proto = port["protocol"]?.stringValue ?? "TCP"
            let number = port["port"]?.intValue ?? 0
            w.write("Port:\t\(name)\t\(number)/\(proto)\n")
            w.write("TargetPort:\t\(port["targetPort"].map(KubectlTablePrinter.cellText) ?? "\(number)")/\(proto)\n")
            if let nodePort = port["nodePort"]?.intValue, nodePort != 0 { w.write("NodePort:\t\(name)\t\(nodePort)/\(proto)\n") }
            w.write("Endpoints:\t\(endpoints(slices, portName: port["name"]?.stringValue ?? ""))\n")
        }
        w.write("Session Affinity:\t\(spec["sessionAffinity"]?.stringValue ?? "")\n")
        if let policy = spec["externalTrafficPolicy"]?.stringValue, !policy.isEmpty { w.write("External Traffic Policy:\t\(policy)\n") }
        if let policy = spec["internalTrafficPolicy"]?.stringValue { w.write("Internal Traffic Policy:\t\(policy)\n") }
        if let port = spec["healthCheckNodePort"]?.intValue, port != 0 { w.write("HealthCheck NodePort:\t\(port)\n") }
        if let ranges = spec["loadBalancerSourceRanges"]?.arrayValue?.compactMap(\.stringValue), !ranges.isEmpty {
            w.write("LoadBalancer Source Ranges:\t\(ranges.joined(separator: ","))\n")
        }
        return finish(&w, events: events)
    }

    /// kubectl's formatEndpointSlices: the first three ready endpoints of the port, then a count.
    static func endpoints(_ slices: [OrderedJSON], portName: String) -> String {
        guard !slices.isEmpty else { return "<none>" }
        var list: [String] = []
        var more = false
        var count = 0
        for slice in slices {
            let endpoints = slice["endpoints"]?.arrayValue ?? []
            let ports = slice["ports"]?.arrayValue ?? []
            let candidates: [Int64?] = ports.isEmpty ? [nil]
                : ports.filter { ($0["name"]?.stringValue ?? "") == portName }.map { $0["port"]?.intValue ?? 0 }
            for port in candidates {
                for endpoint in endpoints {
                    if list.count == 3 { more = true }
                    guard endpoint[path: ["conditions", "ready"]]?.boolValue ?? true else { continue }
                    if !more, let address = endpoint["addresses"]?.arrayValue?.first?.stringValue {
                        list.append(port.map { "\(address):\($0)" } ?? address)
                    }
                    count += 1
                }
            }
        }
        let joined = list.joined(separator: ",")
        return more ? "\(joined) + \(count - 3) more..." : joined
    }

    static func namespace(_ namespace: OrderedJSON) -> String {
        var w = GoTabWriter()
        let metadata = namespace["metadata"] ?? .object([])
        w.write("Name:\t\(metadata["name"]?.stringValue ?? "")\n")
        Pod.labels(&w, "Labels", metadata["labels"]?.stringMap ?? [:])
        Pod.annotations(&w, metadata["annotations"]?.stringMap ?? [:])
        w.write("Status:\t\(namespace[path: ["status", "phase"]]?.stringValue ?? "")\n")
        return w.flush()
    }

    static func finish(_ w: inout GoTabWriter, events: [OrderedJSON]) -> String {
        if events.isEmpty {
            w.write("Events:\t<none>\n")
            return w.flush()
        }
        return w.flush() + Pod.events(events, now: Date())
    }

    /// `a=b,c=d`, sorted, as labels.FormatLabels writes a map.
    static func formatLabels(_ labels: [String: String]) -> String {
        labels.isEmpty ? "<none>" : labels.keys.sorted().map { "\($0)=\(labels[$0] ?? "")" }.joined(separator: ",")
    }

    /// metav1.FormatLabelSelector: matchLabels then expressions, `<none>` when empty.
    static func labelSelector(_ selector: OrderedJSON?) -> String {
        var parts = (selector?["matchLabels"]?.stringMap ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        for expression in selector?["matchExpressions"]?.arrayValue ?? [] {
            let key = expression["key"]?.stringValue ?? ""
            let values = expression["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
            switch expression["operator"]?.stringValue ?? "" {
            case "In": parts.append("\(key) in (\(values.joined(separator: ",")))")
            case "NotIn": parts.append("\(key) notin (\(values.joined(separator: ",")))")
            case "Exists": parts.append(key)
            case "DoesNotExist": parts.append("!\(key)")
            default: break
            }
        }
        return parts.isEmpty ? "<none>" : parts.joined(separator: ",")
    }
}
