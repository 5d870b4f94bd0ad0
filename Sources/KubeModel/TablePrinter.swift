import Foundation
import Platform

/// Server-side printing: the `meta.k8s.io/v1` Table kubectl asks for, with kubectl 1.32's columns and
/// cell formats for each kind (pkg/printers/internalversion/printers.go), every column always sent.
public struct TableColumn: Sendable {
    public var name: String
    public var type: String
    public var format: String
    public var priority: Int
    public var description: String

    init(_ name: String, _ type: String = "string", format: String = "", priority: Int = 0, _ description: String = "") {
        self.name = name
        self.type = type
        self.format = format
        self.priority = priority
        self.description = description.isEmpty ? name : description
    }

    static func name(_ description: String = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names") -> TableColumn {
        TableColumn("Name", format: "name", description)
    }

    static let age = TableColumn("Age", "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.")

    var json: OrderedJSON {
        .object([("name", .string(name)), ("type", .string(type)), ("format", .string(format)),
                 ("description", .string(description)), ("priority", .int(Int64(priority)))])
    }
}

public enum TablePrinter {
    public static func columns(for type: ResourceType) -> [TableColumn] {
        switch type.kind {
        case "Pod":
            return [.name(), TableColumn("Ready", "The aggregate readiness state of this pod for accepting traffic."),
                    TableColumn("Status", "The aggregate status of the containers in this pod."),
                    TableColumn("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
                    .age, TableColumn("IP", priority: 1, "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."),
                    TableColumn("Node", priority: 1, "NodeName is a request to schedule this pod onto a specific node."),
                    TableColumn("Nominated Node", priority: 1, "nominatedNodeName is set only when this pod preempts other pods on the node."),
                    TableColumn("Readiness Gates", priority: 1, "If specified, all readiness gates will be evaluated for pod readiness.")]
        case "Node":
            return [.name(), TableColumn("Status", "The status of the node"), TableColumn("Roles", "The roles of the node"), .age,
                    TableColumn("Version", "Kubelet Version reported by the node."),
                    TableColumn("Internal-IP", priority: 1, "List of addresses reachable to the node."),
                    TableColumn("External-IP", priority: 1, "List of addresses reachable to the node."),
                    TableColumn("OS-Image", priority: 1, "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
                    TableColumn("Kernel-Version", priority: 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
                    TableColumn("Container-Runtime", priority: 1, "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).")]
        case "Service":
            return [.name(), TableColumn("Type", "type determines how the Service is exposed."),
                    TableColumn("Cluster-IP", "clusterIP is the IP address of the service and is usually assigned randomly."),
                    TableColumn("External-IP", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
                    TableColumn("Port(s)", "The list of ports that are exposed by this service."), .age,
                    TableColumn("Selector", priority: 1, "Route service traffic to pods with label keys and values matching this selector.")]
        case "ReplicationController", "ReplicaSet":
            return [.name(), TableColumn("Desired", "integer", "Replicas is the number of desired replicas."),
                    TableColumn("Current", "integer", "Replicas is the most recently observed number of replicas."),
                    TableColumn("Ready", "integer", "The number of ready replicas for this replication controller."), .age,
                    TableColumn("Containers", priority: 1, "Names of each container in the template."),
                    TableColumn("Images", priority: 1, "Images referenced by each container in the template."),
                    TableColumn("Selector", priority: 1, "Selector is a label query over pods that should match the replica count.")]
        case "Deployment":
            return [.name(), TableColumn("Ready", "Number of the pod with ready state"),
                    TableColumn("Up-to-date", "integer", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
                    TableColumn("Available", "integer", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
                    .age, TableColumn("Containers", priority: 1, "Names of each container in the template."),
                    TableColumn("Images", priority: 1, "Images referenced by each container in the template."),
                    TableColumn("Selector", priority: 1, "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.")]
        case "DaemonSet":
            return [.name(), TableColumn("Desired", "integer"), TableColumn("Current", "integer"), TableColumn("Ready", "integer"),
                    TableColumn("Up-to-date", "integer"), TableColumn("Available", "integer"), TableColumn("Node Selector"), .age,
                    TableColumn("Containers", priority: 1), TableColumn("Images", priority: 1), TableColumn("Selector", priority: 1)]
        case "Job":
            return [.name(), TableColumn("Status", "Status of the job."),
                    TableColumn("Completions", "The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs."),
                    TableColumn("Duration", "Time required to complete the job."), .age,
                    TableColumn("Containers", priority: 1, "Names of each container in the template."),
                    TableColumn("Images", priority: 1, "Images referenced by each container in the template."),
                    TableColumn("Selector", priority: 1, "A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors")]
        case "Event":
            return [TableColumn("Last Seen", "Time when this Event was last observed"), TableColumn("Type", "Type of this event (Normal, Warning), new types could be added in the future."),
                    TableColumn("Reason", "The reason this event was generated. Short, machine understandable string."),
                    TableColumn("Object", "The object that this event is about."),
                    TableColumn("Subobject", priority: 1, "The subobject that this event is about."),
                    TableColumn("Source", priority: 1, "The component reporting this event. Should be a short machine understandable string."),
                    TableColumn("Message", "A human-readable description of the status of this operation."),
                    TableColumn("First Seen", priority: 1, "The time at which the event was first recorded."),
                    TableColumn("Count", priority: 1, "The number of times this event has occurred."),
                    TableColumn("Name", format: "name", priority: 1, "Name of the event.")]
        case "Endpoints":
            return [.name(), TableColumn("Endpoints", "Endpoints is the list of endpoints in the Endpoints object."), .age]
        case "Namespace":
            return [.name(), TableColumn("Status", "The status of the namespace"), .age]
        case "ConfigMap":
            return [.name(), TableColumn("Data", "integer", "Data contains the configuration data."), .age]
        case "Secret":
            return [.name(), TableColumn("Type", "The type of the secret"), TableColumn("Data", "integer", "The number of data entries."), .age]
        case "ServiceAccount":
            return [.name(), TableColumn("Secrets", "integer", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."), .age]
        case "Lease":
            return [.name(), TableColumn("Holder", "The holder of the lease"), .age]
        case "EndpointSlice":
            return [.name(), TableColumn("AddressType"), TableColumn("Ports"), TableColumn("Endpoints"), .age]
        default:
            return [.name(), TableColumn("Created At", "date", "CreationTimestamp is a timestamp representing the server time when this object was created.")]
        }
    }

    /// One row's cells for an object.
    public static func cells(for object: OrderedJSON, type: ResourceType, now: Date = Date()) -> [OrderedJSON] {
        let age = OrderedJSON.string(KubeTime.age(of: object.creationTimestamp, now: now))
        switch type.kind {
        case "Pod": return PodPrinter.cells(object, now: now).map(OrderedJSON.string)
        case "Node": return NodePrinter.cells(object, now: now).map(OrderedJSON.string)
        case "Service": return ServicePrinter.cells(object, now: now).map(OrderedJSON.string)
        case "ReplicationController", "ReplicaSet":
            let spec = object["spec"]
            let selector: String
            if type.kind == "ReplicationController" {
                selector = formatSelectorMap(spec?["selector"]?.stringMap)
            } else {
                selector = spec?["selector"].map { LabelSelector(labelSelectorJSON: $0) }.map { $0.isEmpty ? "<none>" : $0.description } ?? "<none>"
            }
            let (containers, images) = templateContainers(object)
            return [.string(object.name), .int(spec?["replicas"]?.intValue ?? 0), .int(object[path: ["status", "replicas"]]?.intValue ?? 0),
                    .int(object[path: ["status", "readyReplicas"]]?.intValue ?? 0), age, .string(containers), .string(images), .string(selector)]
        case "Deployment":
            let desired = object[path: ["spec", "replicas"]]?.intValue ?? 0
            let ready = object[path: ["status", "readyReplicas"]]?.intValue ?? 0
            let (containers, images) = templateContainers(object)
            let selector = object[path: ["spec", "selector"]].map { LabelSelector(labelSelectorJSON: $0).description } ?? "<none>"
            return [.string(object.name), .string("\(ready)/\(desired)"), .int(object[path: ["status", "updatedReplicas"]]?.intValue ?? 0),
                    .int(object[path: ["status", "availableReplicas"]]?.intValue ?? 0), age, .string(containers), .string(images),
                    .string(selector.isEmpty ? "<none>" : selector)]
        case "DaemonSet":
            let status = object["status"]
            let (containers, images) = templateContainers(object)
            let nodeSelector = formatSelectorMap(object[path: ["spec", "template", "spec", "nodeSelector"]]?.stringMap)
            let selector = object[path: ["spec", "selector"]].map { LabelSelector(labelSelectorJSON: $0).description } ?? "<none>"
            return [.string(object.name), .int(status?["desiredNumberScheduled"]?.intValue ?? 0),
                    .int(status?["currentNumberScheduled"]?.intValue ?? 0), .int(status?["numberReady"]?.intValue ?? 0),
                    .int(status?["updatedNumberScheduled"]?.intValue ?? 0), .int(status?["numberAvailable"]?.intValue ?? 0),
                    .string(nodeSelector), age, .string(containers), .string(images), .string(selector.isEmpty ? "<none>" : selector)]
        case "Job": return JobPrinter.cells(object, now: now).map(OrderedJSON.string)
        case "Event": return EventPrinter.cells(object, now: now)
        case "Endpoints": return [.string(object.name), .string(formatEndpoints(object)), age]
        case "Namespace": return [.string(object.name), .string(object[path: ["status", "phase"]]?.stringValue ?? ""), age]
        case "ConfigMap":
            let count = (object["data"]?.objectValue?.count ?? 0) + (object["binaryData"]?.objectValue?.count ?? 0)
            return [.string(object.name), .int(Int64(count)), age]
        case "Secret":
            return [.string(object.name), .string(object["type"]?.stringValue ?? ""), .int(Int64(object["data"]?.objectValue?.count ?? 0)), age]
        case "ServiceAccount":
            return [.string(object.name), .int(Int64(object["secrets"]?.arrayValue?.count ?? 0)), age]
        case "Lease":
            return [.string(object.name), .string(object[path: ["spec", "holderIdentity"]]?.stringValue ?? "<unset>"), age]
        case "EndpointSlice":
            let ports = (object["ports"]?.arrayValue ?? []).compactMap { $0["port"]?.intValue }.map(String.init)
            let addresses = (object["endpoints"]?.arrayValue ?? []).flatMap { ($0["addresses"]?.arrayValue ?? []).compactMap(\.stringValue) }
            let shown = addresses.prefix(3).joined(separator: ",") + (addresses.count > 3 ? " + \(addresses.count - 3) more..." : "")
            return [.string(object.name), .string(object["addressType"]?.stringValue ?? ""),
                    .string(ports.isEmpty ? "<unset>" : ports.joined(separator: ",")), .string(addresses.isEmpty ? "<unset>" : shown), age]
        default:
            return [.string(object.name), .string(object.creationTimestamp ?? "")]
        }
    }

    /// `k=v` pairs sorted and comma-joined, or `<none>`.
    static func formatSelectorMap(_ map: [String: String]?) -> String {
        guard let map, !map.isEmpty else { return "<none>" }
        return map.keys.sorted().map { "\($0)=\(map[$0] ?? "")" }.joined(separator: ",")
    }

    static func templateContainers(_ object: OrderedJSON) -> (String, String) {
        let containers = object[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []
        return (containers.compactMap { $0["name"]?.stringValue }.joined(separator: ","),
                containers.compactMap { $0["image"]?.stringValue }.joined(separator: ","))
    }

    /// Up to three `ip:port`, then ` + N more...`.
    static func formatEndpoints(_ object: OrderedJSON) -> String {
        var list: [String] = []
        var count = 0
        for subset in object["subsets"]?.arrayValue ?? [] {
            let addresses = (subset["addresses"]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }
            let ports = (subset["ports"]?.arrayValue ?? []).compactMap { $0["port"]?.intValue }
            for ip in addresses {
                if ports.isEmpty {
                    count += 1
                    if list.count < 3 { list.append(ip) }
                }
                for port in ports {
                    count += 1
                    if list.count < 3 { list.append("\(ip):\(port)") }
                }
            }
        }
        if count == 0 { return "<none>" }
        return list.joined(separator: ",") + (count > 3 ? " + \(count - 3) more..." : "")
    }

    /// The whole Table for a list (or, with one object, for a get).
    public static func table(for objects: [OrderedJSON], type: ResourceType, resourceVersion: String,
                             includeObject: String = "Metadata", columnDefinitions: Bool = true, now: Date = Date()) -> OrderedJSON {
        let rows = objects.map { object -> OrderedJSON in
            var pairs: [(String, OrderedJSON)] = [("cells", .array(cells(for: object, type: type, now: now)))]
            if type.kind == "Pod", let conditions = PodPrinter.rowConditions(object) { pairs.append(("conditions", conditions)) }
            switch includeObject {
            case "None": break
            case "Object": pairs.append(("object", object))
            default: pairs.append(("object", partialMetadata(object)))
            }
            return .object(pairs)
        }
        return .object([
            ("kind", .string("Table")), ("apiVersion", .string("meta.k8s.io/v1")),
            ("metadata", .object([("resourceVersion", .string(resourceVersion))])),
            ("columnDefinitions", columnDefinitions ? .array(columns(for: type).map(\.json)) : .null),
            ("rows", .array(rows)),
        ])
    }

    /// `PartialObjectMetadata`: what `-A`, `--show-labels` and `-L` read from a row.
    public static func partialMetadata(_ object: OrderedJSON) -> OrderedJSON {
        var metadata = object["metadata"] ?? .object([])
        metadata["managedFields"] = nil
        return .object([("kind", .string("PartialObjectMetadata")), ("apiVersion", .string("meta.k8s.io/v1")), ("metadata", metadata)])
    }
}
