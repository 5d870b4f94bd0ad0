import ArgumentParser
import Foundation
import Platform

/// `kubectl expose rc|rs|deployment|pod|service NAME`: a Service selecting what the resource
/// selects, on the ports its containers declare unless `--port` says otherwise.
struct KubectlExposeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "expose", abstract: "Expose a resource as a new Kubernetes service.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "TYPE NAME or TYPE/NAME") var target: [String]
    @Option(help: "The name for the new service.") var name: String?
    @Option(help: "Type for this service: ClusterIP, NodePort, LoadBalancer, or ExternalName.") var type: String?
    @Option(help: "The port that the service should serve on.") var port: Int?
    @Option(name: .customLong("target-port"), help: "Name or number of the port on the container.") var targetPort: String?
    @Option(help: "The network protocol for the service.") var `protocol`: String = "TCP"
    @Option(help: "A label selector to use for this service.") var selector: String?
    @OptionGroup var creation: KubectlCreateOutput

    func run() async throws {
        try await KubectlCommand.report {
            let session = try global.session()
            let requests = try KubectlTargets.parse(target, discovery: session.discovery)
            guard let request = requests.first, let resourceName = request.names.first else {
                throw KubectlError.message("error: you must provide one or more resources by argument or filename")
            }
            let object = try session.client.expect("GET", request.type.objectPath(namespace: session.context.namespace, name: resourceName))
            let selectorMap: [String: String]
            if let selector {
                selectorMap = Dictionary(selector.split(separator: ",").map { pair in
                    let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    return (parts[0], parts.count > 1 ? parts[1] : "")
                }, uniquingKeysWith: { $1 })
            } else {
                switch request.type.kind {
                case "Pod": selectorMap = object[path: ["metadata", "labels"]]?.stringMap ?? [:]
                case "ReplicationController", "Service": selectorMap = object[path: ["spec", "selector"]]?.stringMap ?? [:]
                default: selectorMap = object[path: ["spec", "selector", "matchLabels"]]?.stringMap ?? [:]
                }
            }
            guard !selectorMap.isEmpty else {
                throw KubectlError.message("error: couldn't retrieve selectors via --selector flag or introspection: the \(request.type.kind) has no selector")
            }
            let podSpec = request.type.kind == "Pod" ? object["spec"] : object[path: ["spec", "template", "spec"]]
            var declared = (podSpec?["containers"]?.arrayValue ?? []).flatMap { $0["ports"]?.arrayValue ?? [] }
            if request.type.kind == "Service" { declared = object[path: ["spec", "ports"]]?.arrayValue ?? [] }
            var ports: [OrderedJSON] = []
            if let port {
                let target: OrderedJSON = targetPort.map { Int($0).map(OrderedJSON.int) ?? .string($0) } ?? .int(port)
                ports = [.object([("protocol", .string(`protocol`)), ("port", .int(port)), ("targetPort", target)])]
            } else {
                for (index, declaredPort) in declared.enumerated() {
                    guard let number = (declaredPort["containerPort"] ?? declaredPort["port"])?.intValue else { continue }
                    var entry: [(String, OrderedJSON)] = []
                    if declared.count > 1 { entry.append(("name", .string("port-\(index + 1)"))) }
                    entry += [("protocol", .string(declaredPort["protocol"]?.stringValue ?? `protocol`)), ("port", .int(number)),
                              ("targetPort", targetPort.map { Int($0).map(OrderedJSON.int) ?? .string($0) } ?? .int(number))]
                    ports.append(.object(entry))
                }
            }
            guard !ports.isEmpty else {
                throw KubectlError.message("error: couldn't find port via --port flag or introspection")
            }
            let serviceName = name ?? resourceName
            var spec: [(String, OrderedJSON)] = [("ports", .array(ports)), ("selector", .stringMap(selectorMap))]
            if let type { spec.append(("type", .string(type))) }
            let service = OrderedJSON.object([
                ("kind", .string("Service")), ("apiVersion", .string("v1")),
                ("metadata", .object([("name", .string(serviceName)), ("creationTimestamp", .null),
                                      ("labels", object[path: ["metadata", "labels"]] ?? .object([]))])),
                ("spec", .object(spec)), ("status", .object([("loadBalancer", .object([]))])),
            ])
            try creation.submit(service, to: "/api/v1/namespaces/\(session.context.namespace)/services", session: session,
                                nameKind: "service", verb: "exposed")
        }
    }
}
