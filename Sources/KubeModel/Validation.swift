import Foundation
import Platform

/// The apiserver's name and label rules, with its wording.
public enum Validation {
    static let subdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let labelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1035Message = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

    static func isAlnum(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 122) }

    /// RFC 1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63.
    public static func dns1123LabelProblems(_ s: String) -> [String] {
        var problems: [String] = []
        if s.count > 63 { problems.append("must be no more than 63 characters") }
        let b = Array(s.utf8)
        if b.isEmpty || !isAlnum(b[0]) || !isAlnum(b[b.count - 1]) || !b.allSatisfy({ isAlnum($0) || $0 == 45 }) {
            problems.append(labelMessage)
        }
        return problems
    }

    /// RFC 1123 subdomain: labels joined by dots, at most 253.
    public static func dns1123SubdomainProblems(_ s: String) -> [String] {
        var problems: [String] = []
        if s.count > 253 { problems.append("must be no more than 253 characters") }
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        let valid = labels.allSatisfy { label in
            let b = Array(label.utf8)
            return !b.isEmpty && isAlnum(b[0]) && isAlnum(b[b.count - 1]) && b.allSatisfy { isAlnum($0) || $0 == 45 }
        }
        if !valid { problems.append(subdomainMessage) }
        return problems
    }

    /// RFC 1035 label (service names): starts with a letter.
    public static func dns1035LabelProblems(_ s: String) -> [String] {
        var problems: [String] = []
        if s.count > 63 { problems.append("must be no more than 63 characters") }
        let b = Array(s.utf8)
        if b.isEmpty || !(b[0] >= 97 && b[0] <= 122) || !isAlnum(b[b.count - 1]) || !b.allSatisfy({ isAlnum($0) || $0 == 45 }) {
            problems.append(dns1035Message)
        }
        return problems
    }

    static let qualifiedNameMessage = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

    static func isQualifiedPart(_ s: Substring) -> Bool {
        let b = Array(s.utf8)
        func alnum(_ c: UInt8) -> Bool { isAlnum(c) || (c >= 65 && c <= 90) }
        return !b.isEmpty && b.count <= 63 && alnum(b[0]) && alnum(b[b.count - 1])
            && b.allSatisfy { alnum($0) || $0 == 45 || $0 == 95 || $0 == 46 }
    }

    /// Label and annotation keys: `[prefix/]name`.
    public static func labelKeyProblems(_ key: String) -> [String] {
        let parts = key.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2 {
            var problems = dns1123SubdomainProblems(String(parts[0])).map { "prefix part \($0)" }
            if !isQualifiedPart(parts[1]) { problems.append(qualifiedNameMessage) }
            return problems
        }
        return isQualifiedPart(parts[0]) ? [] : [qualifiedNameMessage]
    }

    /// Label values: empty, or a qualified name part of at most 63 characters.
    public static func labelValueProblems(_ value: String) -> [String] {
        if value.isEmpty { return [] }
        if value.count > 63 { return ["must be no more than 63 characters"] }
        return isQualifiedPart(Substring(value)) ? [] : ["a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]
    }

    /// The rules every object's metadata follows, plus the kind's own.
    public static func validate(_ object: OrderedJSON, type: ResourceType) -> [FieldError] {
        var errors: [FieldError] = []
        let name = object.name
        if name.isEmpty {
            errors.append(.required("metadata.name", "name or generateName is required"))
        } else {
            let problems: [String]
            switch type.kind {
            case "Namespace": problems = dns1123LabelProblems(name)
            case "Service": problems = dns1035LabelProblems(name)
            default: problems = dns1123SubdomainProblems(name)
            }
            errors += problems.map { .invalid("metadata.name", name, $0) }
        }
        for (key, value) in object.labels {
            errors += labelKeyProblems(key).map { .invalid("metadata.labels", key, $0) }
            errors += labelValueProblems(value).map { .invalid("metadata.labels", value, $0) }
        }
        for key in object.annotations.keys {
            errors += labelKeyProblems(key).map { .invalid("metadata.annotations", key, $0) }
        }
        switch type.kind {
        case "Pod": errors += validatePodSpec(object["spec"], path: "spec")
        case "ReplicationController", "ReplicaSet", "Deployment", "DaemonSet":
            errors += validatePodSpec(object[path: ["spec", "template", "spec"]], path: "spec.template.spec")
            if let replicas = object[path: ["spec", "replicas"]]?.intValue, replicas < 0 {
                errors.append(.invalid("spec.replicas", String(replicas), "must be greater than or equal to 0"))
            }
        case "Service": errors += validateServiceSpec(object["spec"])
        case "Job": errors += validateJobSpec(object["spec"])
        default: break
        }
        return errors
    }

    static func validateJobSpec(_ spec: OrderedJSON?) -> [FieldError] {
        var errors = validatePodSpec(spec?[path: ["template", "spec"]], path: "spec.template.spec")
        let restartPolicy = spec?[path: ["template", "spec", "restartPolicy"]]?.stringValue ?? ""
        if !["OnFailure", "Never"].contains(restartPolicy) {
            errors.append(.notSupported("spec.template.spec.restartPolicy", restartPolicy, ["OnFailure", "Never"]))
        }
        for field in ["parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"] {
            if let value = spec?[field]?.intValue, value < 0 {
                errors.append(.invalid("spec.\(field)", String(value), "must be greater than or equal to 0"))
            }
        }
        if let selector = spec?["selector"] {
            let labels = spec?[path: ["template", "metadata", "labels"]]?.stringMap ?? [:]
            if !LabelSelector(labelSelectorJSON: selector).matches(labels) {
                errors.append(.invalid("spec.template.metadata.labels", formatLabels(labels), "`selector` does not match template `labels`"))
            }
        }
        return errors
    }

    static func formatLabels(_ labels: [String: String]) -> String {
        "map[" + labels.keys.sorted().map { "\($0):\(labels[$0] ?? "")" }.joined(separator: " ") + "]"
    }

    static func validatePodSpec(_ spec: OrderedJSON?, path: String) -> [FieldError] {
        guard let containers = spec?["containers"]?.arrayValue, !containers.isEmpty else {
            return [.required("\(path).containers")]
        }
        var errors: [FieldError] = []
        var names = Set<String>()
        for (i, container) in containers.enumerated() {
            let field = "\(path).containers[\(i)]"
            let name = container["name"]?.stringValue ?? ""
            if name.isEmpty {
                errors.append(.required("\(field).name"))
            } else {
                errors += dns1123LabelProblems(name).map { .invalid("\(field).name", name, $0) }
                if !names.insert(name).inserted { errors.append(.duplicate("\(field).name", name)) }
            }
            if (container["image"]?.stringValue ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                errors.append(.required("\(field).image"))
            }
            for (j, port) in (container["ports"]?.arrayValue ?? []).enumerated() {
                let number = port["containerPort"]?.intValue ?? 0
                if !(1...65535).contains(number) {
                    errors.append(.invalid("\(field).ports[\(j)].containerPort", String(number), "must be between 1 and 65535, inclusive"))
                }
            }
        }
        if let policy = spec?["restartPolicy"]?.stringValue, !["Always", "OnFailure", "Never"].contains(policy) {
            errors.append(.notSupported("\(path).restartPolicy", policy, ["Always", "OnFailure", "Never"]))
        }
        return errors
    }

    static func validateServiceSpec(_ spec: OrderedJSON?) -> [FieldError] {
        var errors: [FieldError] = []
        let type = spec?["type"]?.stringValue ?? "ClusterIP"
        let types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
        if !types.contains(type) { errors.append(.notSupported("spec.type", type, types)) }
        let ports = spec?["ports"]?.arrayValue ?? []
        if ports.isEmpty && type != "ExternalName" && spec?["clusterIP"]?.stringValue != "None" {
            errors.append(.required("spec.ports"))
        }
        for (i, port) in ports.enumerated() {
            let number = port["port"]?.intValue ?? 0
            if !(1...65535).contains(number) {
                errors.append(.invalid("spec.ports[\(i)].port", String(number), "must be between 1 and 65535, inclusive"))
            }
            if ports.count > 1 && (port["name"]?.stringValue ?? "").isEmpty {
                errors.append(.required("spec.ports[\(i)].name"))
            }
        }
        return errors
    }
}
