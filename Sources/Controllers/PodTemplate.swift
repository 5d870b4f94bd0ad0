import KubeModel
import Platform

/// A pod made from a workload's template, as controllers create them: `<owner>-` plus a random
/// suffix, the template's labels and annotations, and the owner as its controller.
enum PodTemplate {
    static func pod(from template: OrderedJSON, owner: OrderedJSON, ownerType: ResourceType,
                    extraLabels: [String: String] = [:]) -> OrderedJSON {
        var metadata: [(String, OrderedJSON)] = [("generateName", .string("\(owner.name)-")), ("namespace", .string(owner.namespace))]
        var labels = template[path: ["metadata", "labels"]]?.stringMap ?? [:]
        for (key, value) in extraLabels { labels[key] = value }
        if !labels.isEmpty { metadata.append(("labels", .stringMap(labels))) }
        if let annotations = template[path: ["metadata", "annotations"]] { metadata.append(("annotations", annotations)) }
        metadata.append(("ownerReferences", .array([OwnerReference(apiVersion: ownerType.apiVersion, kind: ownerType.kind,
                                                                   name: owner.name, uid: owner.uid).json])))
        return .object([("metadata", .object(metadata)), ("spec", template["spec"] ?? .object([]))])
    }
}
