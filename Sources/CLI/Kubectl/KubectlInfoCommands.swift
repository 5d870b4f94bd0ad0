import ArgumentParser
import Foundation
import Platform

/// `kubectl api-resources`: every resource type the server serves, by group then name.
struct KubectlAPIResourcesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "api-resources", abstract: "Print the supported API resources on the server.")
    @OptionGroup var global: KubectlGlobalOptions
    @Option(name: .shortAndLong, help: "Output format: wide or name.") var output: String?

    func run() async throws {
        try await KubectlCommand.report {
            let session = try global.session()
            let types = session.discovery.types.sorted { ($0.group, $0.plural) < ($1.group, $1.plural) }
            if output == "name" {
                Console.out(types.map { $0.qualifiedName + "\n" }.joined())
                return
            }
            var writer = TableWriter(minWidth: 6, padding: 3)
            var header = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
            if output == "wide" { header += ["VERBS", "CATEGORIES"] }
            writer.add(header)
            for type in types {
                var row = [type.plural, type.shortNames.joined(separator: ","), type.groupVersion, type.namespaced ? "true" : "false", type.kind]
                if output == "wide" { row += [type.verbs.joined(separator: ","), type.categories.joined(separator: ",")] }
                writer.add(row)
            }
            Console.out(writer.render())
        }
    }
}

/// `kubectl config current-context|get-contexts|use-context|view` on the kubeconfig file.
struct KubectlConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Modify kubeconfig files.")

    @Option(name: .customLong("kubeconfig"), help: "Path to the kubeconfig file to use.") var kubeconfig: String?
    @Argument(help: "current-context, get-contexts, use-context NAME, or view") var arguments: [String]

    func run() async throws {
        try await KubectlCommand.report {
            let path = kubeconfig ?? ProcessInfo.processInfo.environment["KUBECONFIG"]?.split(separator: ":").first.map(String.init)
                ?? Kubeconfig.path(flag: nil)
            var config = try Kubeconfig.load(path)
            let current = config["current-context"] as? String ?? ""
            let contexts = (config["contexts"] as? [[String: Any]]) ?? []
            switch arguments.first {
            case "current-context":
                guard !current.isEmpty else { throw KubectlError.message("error: current-context is not set") }
                Console.out(current + "\n")
            case "get-contexts":
                var writer = TableWriter(minWidth: 6, padding: 3)
                writer.add(["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"])
                for entry in contexts.sorted(by: { ($0["name"] as? String ?? "") < ($1["name"] as? String ?? "") }) {
                    let name = entry["name"] as? String ?? ""
                    let context = entry["context"] as? [String: Any] ?? [:]
                    writer.add([name == current ? "*" : "", name, context["cluster"] as? String ?? "", context["user"] as? String ?? "",
                                context["namespace"] as? String ?? ""])
                }
                Console.out(writer.render())
            case "use-context":
                guard arguments.count == 2 else { throw KubectlError.message("error: Unexpected args: \(arguments.dropFirst())") }
                let name = arguments[1]
                guard contexts.contains(where: { ($0["name"] as? String) == name }) else {
                    throw KubectlError.message("error: no context exists with the name: \"\(name)\"")
                }
                config["current-context"] = name
                try Kubeconfig.save(config, to: path)
                Console.out("Switched to context \"\(name)\".\n")
            case "view":
                // As kubectl shows it: secrets redacted.
                var shown = config
                shown["users"] = ((config["users"] as? [[String: Any]]) ?? []).map { entry -> [String: Any] in
                    var copy = entry
                    var user = entry["user"] as? [String: Any] ?? [:]
                    for key in ["token", "client-key-data", "password"] where user[key] != nil { user[key] = "REDACTED" }
                    for key in ["client-certificate-data"] where user[key] != nil { user[key] = "DATA+OMITTED" }
                    copy["user"] = user
                    return copy
                }
                shown["clusters"] = ((config["clusters"] as? [[String: Any]]) ?? []).map { entry -> [String: Any] in
                    var copy = entry
                    var cluster = entry["cluster"] as? [String: Any] ?? [:]
                    if cluster["certificate-authority-data"] != nil { cluster["certificate-authority-data"] = "DATA+OMITTED" }
                    copy["cluster"] = cluster
                    return copy
                }
                if shown["preferences"] == nil { shown["preferences"] = [String: Any]() }
                Console.out(KubectlYAML.render(KubectlManifests.json(shown)))
            default:
                throw KubectlError.message("error: unknown command \"config \(arguments.first ?? "")\": use current-context, get-contexts, use-context or view")
            }
        }
    }
}
