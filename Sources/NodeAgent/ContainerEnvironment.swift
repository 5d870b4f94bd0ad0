import Foundation
import KubeModel
import Platform

/// A container's command line and environment as the kubelet builds them.
public enum ContainerEnvironment {
    /// What a container's environment may refer to, looked up at start.
    public struct Sources: Sendable {
        public var configMap: @Sendable (_ name: String) -> OrderedJSON?
        public var secret: @Sendable (_ name: String) -> OrderedJSON?
        /// The services of the pod's namespace (and `kubernetes` of `default`), for the links.
        public var services: [OrderedJSON]
        public var masterService: OrderedJSON?

        public init(configMap: @escaping @Sendable (String) -> OrderedJSON?, secret: @escaping @Sendable (String) -> OrderedJSON?,
                    services: [OrderedJSON], masterService: OrderedJSON?) {
            self.configMap = configMap
            self.secret = secret
            self.services = services
            self.masterService = masterService
        }
    }

    /// A reference that cannot be met: the container waits in CreateContainerConfigError.
    public struct ConfigError: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// `command` replaces the image's entrypoint (and drops its cmd); `args` replaces the cmd.
    /// `$(VAR)` references are expanded from the environment; `$$` escapes.
    public static func commandLine(container: OrderedJSON, imageEntrypoint: [String], imageCmd: [String], environment: [String]) -> [String] {
        let command = container["command"]?.arrayValue?.compactMap(\.stringValue)
        let args = container["args"]?.arrayValue?.compactMap(\.stringValue)
        var line: [String]
        if let command, !command.isEmpty {
            line = command + (args ?? [])
        } else {
            line = imageEntrypoint + (args ?? imageCmd)
        }
        let values = Dictionary(environment.compactMap { entry -> (String, String)? in
            guard let eq = entry.firstIndex(of: "=") else { return nil }
            return (String(entry[..<eq]), String(entry[entry.index(after: eq)...]))
        }, uniquingKeysWith: { _, last in last })
        line = line.map { expand($0, with: values) }
        return line
    }

    /// The container's variables in the kubelet's order: service links, then `envFrom`, then `env`
    /// (later ones win). The image's own variables are merged under these by the runtime.
    public static func variables(pod: OrderedJSON, container: OrderedJSON, sources: Sources) throws(ConfigError) -> [String] {
        var order: [String] = []
        var values: [String: String] = [:]
        func set(_ name: String, _ value: String) {
            if values[name] == nil { order.append(name) }
            values[name] = value
        }
        let links = pod[path: ["spec", "enableServiceLinks"]]?.boolValue ?? true
        var linked = links ? sources.services : []
        if let master = sources.masterService, !linked.contains(where: { $0.name == master.name && $0.namespace == master.namespace }) {
            linked.append(master)
        }
        for service in linked.sorted(by: { $0.name < $1.name }) {
            for (name, value) in serviceLinkVariables(service) { set(name, value) }
        }
        for source in container["envFrom"]?.arrayValue ?? [] {
            let prefix = source["prefix"]?.stringValue ?? ""
            if let ref = source["configMapRef"] {
                let name = ref["name"]?.stringValue ?? ""
                guard let configMap = sources.configMap(name) else {
                    if ref["optional"]?.boolValue == true { continue }
                    throw ConfigError(message: "configmap \"\(name)\" not found")
                }
                for (key, value) in configMap["data"]?.objectValue ?? [] { set(prefix + key, value.stringValue ?? "") }
            } else if let ref = source["secretRef"] {
                let name = ref["name"]?.stringValue ?? ""
                guard let secret = sources.secret(name) else {
                    if ref["optional"]?.boolValue == true { continue }
                    throw ConfigError(message: "secret \"\(name)\" not found")
                }
                for (key, value) in secret["data"]?.objectValue ?? [] { set(prefix + key, decodeSecret(value)) }
            }
        }
        for entry in container["env"]?.arrayValue ?? [] {
            guard let name = entry["name"]?.stringValue else { continue }
            if let literal = entry["value"]?.stringValue {
                set(name, expand(literal, with: values))
            } else if let from = entry["valueFrom"] {
                if let value = try valueFrom(from, pod: pod, container: container, sources: sources) { set(name, value) }
            } else {
                set(name, "")
            }
        }
        return order.map { "\($0)=\(values[$0] ?? "")" }
    }

    static func valueFrom(_ from: OrderedJSON, pod: OrderedJSON, container: OrderedJSON, sources: Sources) throws(ConfigError) -> String? {
        if let field = from[path: ["fieldRef", "fieldPath"]]?.stringValue {
            return fieldValue(field, pod: pod)
        }
        if let ref = from["configMapKeyRef"] {
            let name = ref["name"]?.stringValue ?? ""
            let key = ref["key"]?.stringValue ?? ""
            let optional = ref["optional"]?.boolValue == true
            guard let configMap = sources.configMap(name) else {
                if optional { return nil }
                throw ConfigError(message: "configmap \"\(name)\" not found")
            }
            guard let value = configMap[path: ["data", key]]?.stringValue else {
                if optional { return nil }
                throw ConfigError(message: "couldn't find key \(key) in ConfigMap \(pod.namespace)/\(name)")
            }
            return value
        }
        if let ref = from["secretKeyRef"] {
            let name = ref["name"]?.stringValue ?? ""
            let key = ref["key"]?.stringValue ?? ""
            let optional = ref["optional"]?.boolValue == true
            guard let secret = sources.secret(name) else {
                if optional { return nil }
                throw ConfigError(message: "secret \"\(name)\" not found")
            }
            guard let value = secret[path: ["data", key]] else {
                if optional { return nil }
                throw ConfigError(message: "couldn't find key \(key) in Secret \(pod.namespace)/\(name)")
            }
            return decodeSecret(value)
        }
        if let resource = from[path: ["resourceFieldRef", "resource"]]?.stringValue {
            let parts = resource.split(separator: ".")
            guard parts.count == 2 else { return nil }
            let quantity = container[path: ["resources", String(parts[0]), String(parts[1])]]
            if parts[1] == "cpu" {
                // Whole cores, rounded up, as the divisor 1 gives.
                let milli = quantity.map(Quantity.milliCPU) ?? 0
                return String(max(1, (milli + 999) / 1000))
            }
            return String(quantity.map(Quantity.bytes) ?? 0)
        }
        return nil
    }

    /// The downward API's pod fields.
    static func fieldValue(_ path: String, pod: OrderedJSON) -> String? {
        switch path {
        case "metadata.name": return pod.name
        case "metadata.namespace": return pod.namespace
        case "metadata.uid": return pod.uid
        case "spec.nodeName": return pod[path: ["spec", "nodeName"]]?.stringValue
        case "spec.serviceAccountName": return pod[path: ["spec", "serviceAccountName"]]?.stringValue
        case "status.hostIP": return pod[path: ["status", "hostIP"]]?.stringValue
        case "status.hostIPs": return (pod[path: ["status", "hostIPs"]]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }.joined(separator: ",")
        case "status.podIP": return pod[path: ["status", "podIP"]]?.stringValue
        case "status.podIPs": return (pod[path: ["status", "podIPs"]]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }.joined(separator: ",")
        default:
            for (prefix, map) in [("metadata.labels['", pod.labels), ("metadata.annotations['", pod.annotations)]
            where path.hasPrefix(prefix) && path.hasSuffix("']") {
                return map[String(path.dropFirst(prefix.count).dropLast(2))] ?? ""
            }
            return nil
        }
    }

    static func decodeSecret(_ value: OrderedJSON) -> String {
        guard let text = value.stringValue, let data = Data(base64Encoded: text) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// `KUBIA_HTTP_SERVICE_HOST=10.96.21.137`, `KUBIA_HTTP_PORT=tcp://10.96.21.137:80`, … as
    /// Docker links once named them.
    public static func serviceLinkVariables(_ service: OrderedJSON) -> [(String, String)] {
        guard let ip = service[path: ["spec", "clusterIP"]]?.stringValue, !ip.isEmpty, ip != "None",
              let ports = service[path: ["spec", "ports"]]?.arrayValue, let first = ports.first,
              let firstPort = first["port"]?.intValue else { return [] }
        let prefix = service.name.uppercased().replacingOccurrences(of: "-", with: "_")
        var result: [(String, String)] = [("\(prefix)_SERVICE_HOST", ip), ("\(prefix)_SERVICE_PORT", String(firstPort))]
        for port in ports {
            if let name = port["name"]?.stringValue, !name.isEmpty, let number = port["port"]?.intValue {
                result.append(("\(prefix)_SERVICE_PORT_\(name.uppercased().replacingOccurrences(of: "-", with: "_"))", String(number)))
            }
        }
        let firstProto = (first["protocol"]?.stringValue ?? "TCP").lowercased()
        result.append(("\(prefix)_PORT", "\(firstProto)://\(ip):\(firstPort)"))
        for port in ports {
            guard let number = port["port"]?.intValue else { continue }
            let proto = port["protocol"]?.stringValue ?? "TCP"
            let base = "\(prefix)_PORT_\(number)_\(proto.uppercased())"
            result += [(base, "\(proto.lowercased())://\(ip):\(number)"), (base + "_PROTO", proto.lowercased()),
                       (base + "_PORT", String(number)), (base + "_ADDR", ip)]
        }
        return result
    }

    /// Kubernetes' `$(VAR)` expansion: known names are replaced, unknown ones left as written,
    /// `$$` becomes `$`.
    public static func expand(_ text: String, with values: [String: String]) -> String {
        guard text.contains("$") else { return text }
        var out = ""
        var index = text.startIndex
        while index < text.endIndex {
            let char = text[index]
            let next = text.index(after: index)
            if char == "$", next < text.endIndex {
                if text[next] == "$" {
                    out.append("$")
                    index = text.index(after: next)
                    continue
                }
                if text[next] == "(", let close = text[next...].firstIndex(of: ")") {
                    let name = String(text[text.index(after: next)..<close])
                    if let value = values[name] {
                        out += value
                    } else {
                        out += text[index...close]
                    }
                    index = text.index(after: close)
                    continue
                }
            }
            out.append(char)
            index = next
        }
        return out
    }
}
