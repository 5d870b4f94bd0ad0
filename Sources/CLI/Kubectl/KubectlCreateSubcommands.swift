import ArgumentParser
import Foundation
import Platform

/// `kubectl create deployment NAME --image=… [--replicas] [--port]`, shaped as kubectl makes it.
struct KubectlCreateDeploymentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deployment", abstract: "Create a deployment with the specified name.", aliases: ["deploy"])

    @OptionGroup var global: KubectlGlobalOptions
    @Argument var name: String
    @Option(help: "Image names to run.") var image: [String]
    @Option(help: "Number of replicas to create.") var replicas: Int = 1
    @Option(help: "The containerPort that this deployment exposes.") var port: Int?
    @OptionGroup var creation: KubectlCreateOutput

    func run() async throws {
        try await KubectlCommand.report {
            let session = try global.session(discover: false)
            let labels = OrderedJSON.stringMap(["app": name])
            // kubectl names each container after its image's last path element, without tag or digest.
            let containers = image.map { reference -> OrderedJSON in
                let base = reference.split(separator: "/").last.map(String.init) ?? reference
                let containerName = String(base.split(separator: "@").first?.split(separator: ":").first ?? Substring(base))
                var container: [(String, OrderedJSON)] = [("name", .string(containerName)), ("image", .string(reference))]
                if let port { container.append(("ports", .array([.object([("containerPort", .int(port))])]))) }
                container.append(("resources", .object([])))
                return .object(container)
            }
            let deployment = OrderedJSON.object([
                ("kind", .string("Deployment")), ("apiVersion", .string("apps/v1")),
                ("metadata", .object([("name", .string(name)), ("creationTimestamp", .null), ("labels", labels)])),
                ("spec", .object([
                    ("replicas", .int(replicas)), ("selector", .object([("matchLabels", labels)])),
                    // Go writes the template's zero creationTimestamp as null, and the server keeps it.
                    ("template", .object([("metadata", .object([("creationTimestamp", .null), ("labels", labels)])),
                                          ("spec", .object([("containers", .array(containers))]))])),
                    ("strategy", .object([])),
                ])),
                ("status", .object([])),
            ])
            try creation.submit(deployment, to: "/apis/apps/v1/namespaces/\(session.context.namespace)/deployments", session: session,
                                nameKind: "deployment.apps", verb: "created")
        }
    }
}

/// `kubectl create namespace NAME`.
struct KubectlCreateNamespaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "namespace", abstract: "Create a namespace with the specified name.", aliases: ["ns"])

    @OptionGroup var global: KubectlGlobalOptions
    @Argument var name: String
    @OptionGroup var creation: KubectlCreateOutput

    func run() async throws {
        try await KubectlCommand.report {
            let session = try global.session(discover: false)
            let namespace = OrderedJSON.object([("kind", .string("Namespace")), ("apiVersion", .string("v1")),
                                                ("metadata", .object([("name", .string(name)), ("creationTimestamp", .null)])),
                                                ("spec", .object([])), ("status", .object([]))])
            try creation.submit(namespace, to: "/api/v1/namespaces", session: session, nameKind: "namespace", verb: "created")
        }
    }
}

/// `kubectl create service clusterip|nodeport|loadbalancer NAME --tcp=PORT[:TARGET]…`.
struct KubectlCreateServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "service", abstract: "Create a service using a specified subcommand.", aliases: ["svc"])

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "clusterip, nodeport or loadbalancer") var type: String
    @Argument var name: String
    @Option(help: "Port pairs, PORT[:TARGET_PORT].") var tcp: [String] = []
    @OptionGroup var creation: KubectlCreateOutput

    func run() async throws {
        try await KubectlCommand.report {
            let types = ["clusterip": "ClusterIP", "nodeport": "NodePort", "loadbalancer": "LoadBalancer"]
            guard let serviceType = types[type.lowercased()] else {
                throw KubectlError.message("error: unknown service type \"\(type)\": use clusterip, nodeport or loadbalancer")
            }
            let session = try global.session(discover: false)
            let ports = try tcp.map { pair -> OrderedJSON in
                let parts = pair.split(separator: ":").map(String.init)
                guard let port = Int(parts[0]), parts.count <= 2 else {
                    throw KubectlError.message("error: invalid port: \(pair)")
                }
                let target: OrderedJSON = parts.count == 2 ? (Int(parts[1]).map(OrderedJSON.int) ?? .string(parts[1])) : .int(port)
                return .object([("name", .string(parts.joined(separator: "-"))), ("protocol", .string("TCP")), ("port", .int(port)),
                                ("targetPort", target)])
            }
            let labels = OrderedJSON.stringMap(["app": name])
            let service = OrderedJSON.object([
                ("kind", .string("Service")), ("apiVersion", .string("v1")),
                ("metadata", .object([("name", .string(name)), ("creationTimestamp", .null), ("labels", labels)])),
                ("spec", .object([("ports", .array(ports)), ("selector", labels), ("type", .string(serviceType))])),
                ("status", .object([("loadBalancer", .object([]))])),
            ])
            try creation.submit(service, to: "/api/v1/namespaces/\(session.context.namespace)/services", session: session,
                                nameKind: "service", verb: "created")
        }
    }
}
