import ArgumentParser
import Foundation
import Glibc
import Platform

/// `onekube kubectl …` (and the binary invoked as `kubectl`): a kubectl-compatible client of any
/// Kubernetes API, reading the kubeconfig as kubectl does.
struct KubectlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubectl",
        abstract: "kubectl controls the Kubernetes cluster manager (onekube's kubectl mode).",
        subcommands: [KubectlGetCommand.self, KubectlCreateCommand.self, KubectlApplyCommand.self, KubectlRunCommand.self, KubectlExposeCommand.self, KubectlScaleCommand.self,
                      KubectlDeleteCommand.self, KubectlLabelCommand.self, KubectlLogsCommand.self, KubectlVersionCommand.self,
                      KubectlClusterInfoCommand.self, KubectlAPIResourcesCommand.self, KubectlConfigCommand.self, KubectlDescribeCommand.self, KubectlRolloutCommand.self,
                      KubectlAnnotateCommand.self, KubectlPatchCommand.self, KubectlEditCommand.self, KubectlCompletionCommand.self,
                      KubectlExecCommand.self, KubectlAttachCommand.self, KubectlPortForwardCommand.self])

    /// Runs a command body, printing a kubectl error as kubectl does (stderr, exit 1).
    static func report(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch KubectlError.message(let message) {
            Console.err(message + "\n")
            throw ExitCode(1)
        }
    }
}

/// The flags every kubectl command takes.
struct KubectlGlobalOptions: ParsableArguments {
    @Option(name: [.short, .customLong("namespace")], help: "The namespace scope for this request.") var namespace: String?
    @Option(name: .customLong("context"), help: "The kubeconfig context to use.") var context: String?
    @Option(name: .customLong("kubeconfig"), help: "Path to the kubeconfig file to use.") var kubeconfig: String?

    struct Session {
        var context: KubeconfigContext
        var client: KubeAPIClient
        var discovery: ResourceDiscovery
    }

    func session(discover: Bool = true) throws -> Session {
        let resolved = try KubeconfigContext.resolve(kubeconfig: kubeconfig, context: context, namespace: namespace)
        let client = KubeAPIClient(context: resolved)
        return Session(context: resolved, client: client, discovery: discover ? try ResourceDiscovery.load(client) : ResourceDiscovery(types: []))
    }
}

struct KubectlVersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the client and server version information.")
    @OptionGroup var global: KubectlGlobalOptions

    func run() async throws {
        try await KubectlCommand.report {
            Console.out("Client Version: \(KubectlVersionCommand.clientVersion)\n")
            let session = try global.session(discover: false)
            let server = try session.client.expect("GET", "/version")
            Console.out("Server Version: \(server["gitVersion"]?.stringValue ?? "unknown")\n")
        }
    }

    /// The kubectl release whose behaviour kubectl mode follows.
    static let clientVersion = "v1.32.0-onekube"
}

struct KubectlClusterInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cluster-info", abstract: "Display addresses of the control plane and services.")
    @OptionGroup var global: KubectlGlobalOptions

    func run() async throws {
        try await KubectlCommand.report {
            let session = try global.session(discover: false)
            let server = session.context.server
            var out = "Kubernetes control plane is running at \(server)\n"
            let services = try session.client.expect("GET", "/api/v1/namespaces/kube-system/services?labelSelector=kubernetes.io%2Fcluster-service%3Dtrue")
            for service in services["items"]?.arrayValue ?? [] {
                let name = service[path: ["metadata", "name"]]?.stringValue ?? ""
                let shown = service[path: ["metadata", "labels"]]?.stringMap?["kubernetes.io/name"] ?? name
                let port = service[path: ["spec", "ports"]]?.arrayValue?.first?["name"]?.stringValue.map { ":" + $0 } ?? ""
                out += "\(shown) is running at \(server)/api/v1/namespaces/kube-system/services/\(name)\(port)/proxy\n"
            }
            out += "\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n"
            Console.out(out)
        }
    }
}

/// kubectl takes its global flags anywhere (`kubectl -n kube-system get pods`); ArgumentParser
/// wants a subcommand's options after its name. Leading global flags move to the end of the
/// command's own arguments (before any `--`, which starts the remote command of exec and run).
enum KubectlArguments {
    static let globalsWithValue: Set<String> = ["-n", "--namespace", "--context", "--kubeconfig"]

    static func movingGlobalOptions(_ arguments: [String]) -> [String] {
        var rest = arguments[...]
        var globals: [String] = []
        while let first = rest.first {
            if globalsWithValue.contains(first) {
                globals.append(first)
                rest = rest.dropFirst()
                if let value = rest.first {
                    globals.append(value)
                    rest = rest.dropFirst()
                }
            } else if globalsWithValue.contains(where: { first.hasPrefix($0 + "=") }) || (first.hasPrefix("-n") && first.count > 2 && !first.hasPrefix("--")) {
                globals.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        guard !globals.isEmpty else { return arguments }
        var moved = Array(rest)
        let end = moved.firstIndex(of: "--") ?? moved.endIndex
        moved.insert(contentsOf: globals, at: end)
        return moved
    }
}
