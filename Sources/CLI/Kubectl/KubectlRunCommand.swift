import ArgumentParser
import Foundation
import Platform

/// `kubectl run NAME --image=…`: a Pod as kubectl ≥ 1.18 makes it, or with the book's
/// `--generator=run/v1` a ReplicationController as kubectl 1.17 and earlier made it.
struct KubectlRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a particular image on the cluster.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "The name of the pod.") var name: String
    @Argument(parsing: .postTerminator, help: "[-- COMMAND [ARGS...]]") var commandLine: [String] = []
    @Option(help: "The image for the container to run.") var image: String
    @Option(help: "The port that this container exposes.") var port: Int?
    @Option(name: [.short, .customLong("labels")], help: "Comma separated labels to apply to the pod.") var labels: String?
    @Option(help: "Environment variables to set in the container.") var env: [String] = []
    @Option(help: "The restart policy for this Pod: Always, OnFailure, Never.") var restart: String = "Always"
    @Option(name: .customLong("image-pull-policy"), help: "The image pull policy for the container.") var imagePullPolicy: String?
    @Flag(help: "Use the arguments after -- as the command instead of the image's arguments.") var command = false
    @Option(help: "Retired in kubectl 1.18; run/v1 still makes a ReplicationController, as the book shows.") var generator: String?
    @OptionGroup var creation: KubectlCreateOutput

    func run() async throws {
        try await KubectlCommand.report {
            let session = try global.session(discover: false)
            var labelMap = ["run": name]
            if let labels {
                labelMap = [:]
                for pair in labels.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else { throw KubectlError.message("error: invalid label spec: \(pair)") }
                    labelMap[parts[0]] = parts[1]
                }
            }
            let arguments = commandLine.first == "--" ? Array(commandLine.dropFirst()) : commandLine
            // Fields in the order of Go's Container struct, as kubectl prints a dry run.
            var container: [(String, OrderedJSON)] = [("name", .string(name)), ("image", .string(image))]
            if !arguments.isEmpty { container.append((command ? "command" : "args", .strings(arguments))) }
            if let port { container.append(("ports", .array([.object([("containerPort", .int(port))])]))) }
            if !env.isEmpty {
                container.append(("env", .array(env.map { entry in
                    let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                    return .object([("name", .string(parts[0])), ("value", .string(parts.count > 1 ? parts[1] : ""))])
                })))
            }
            container.append(("resources", .object([])))
            if let imagePullPolicy { container.append(("imagePullPolicy", .string(imagePullPolicy))) }
            let podSpec = OrderedJSON.object([("containers", .array([.object(container)])), ("restartPolicy", .string(restart)),
                                              ("dnsPolicy", .string("ClusterFirst"))])
            let namespace = session.context.namespace
            switch generator {
            case nil:
                let pod = OrderedJSON.object([
                    ("kind", .string("Pod")), ("apiVersion", .string("v1")),
                    ("metadata", .object([("name", .string(name)), ("creationTimestamp", .null), ("labels", .stringMap(labelMap))])),
                    ("spec", podSpec), ("status", .object([])),
                ])
                try creation.submit(pod, to: "/api/v1/namespaces/\(namespace)/pods", session: session, nameKind: "pod", verb: "created")
            case "run/v1":
                let controller = OrderedJSON.object([
                    ("kind", .string("ReplicationController")), ("apiVersion", .string("v1")),
                    ("metadata", .object([("name", .string(name)), ("labels", .stringMap(labelMap))])),
                    ("spec", .object([("replicas", .int(1)), ("selector", .stringMap(labelMap)),
                                      ("template", .object([("metadata", .object([("creationTimestamp", .null), ("labels", .stringMap(labelMap))])),
                                                           ("spec", podSpec)]))])),
                ])
                try creation.submit(controller, to: "/api/v1/namespaces/\(namespace)/replicationcontrollers", session: session,
                                    nameKind: "replicationcontroller", verb: "created")
            case let other?:
                throw KubectlError.message("error: generator \"\(other)\" was removed in kubectl 1.18; onekube's kubectl keeps only run/v1 (a ReplicationController, as Kubernetes in Action uses it). Use kubectl create deployment or a manifest instead.")
            }
        }
    }
}
