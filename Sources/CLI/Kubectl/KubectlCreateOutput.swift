import ArgumentParser
import Platform

/// `--dry-run=none|client|server` and `-o json|yaml|name` of the commands that make one object
/// (run, expose, create deployment|namespace|service), with kubectl's lines for each.
struct KubectlCreateOutput: ParsableArguments {
    @Option(name: .customLong("dry-run"), help: "none, client (print the object, send nothing) or server (the server checks it, stores nothing).")
    var dryRun: String = "none"
    @Option(name: .shortAndLong, help: "Output format: json, yaml or name.") var output: String?

    /// Sends `object` to `collectionPath` (or not, with --dry-run=client) and prints what kubectl
    /// prints: `kind/name <verb>` with the dry-run mark, or the object.
    func submit(_ object: OrderedJSON, to collectionPath: String, session: KubectlGlobalOptions.Session,
                nameKind: String, verb: String) throws {
        guard ["none", "client", "server"].contains(dryRun) else {
            throw KubectlError.message("error: Invalid dry-run value (\(dryRun)). Must be \"none\", \"server\", or \"client\".")
        }
        var result = object
        if dryRun != "client" {
            result = try session.client.expect("POST", collectionPath + (dryRun == "server" ? "?dryRun=All" : ""), body: object)
        }
        let name = result[path: ["metadata", "name"]]?.stringValue ?? ""
        switch output {
        case nil:
            let mark = ["client": " (dry run)", "server": " (server dry run)"][dryRun] ?? ""
            Console.out("\(nameKind)/\(name) \(verb)\(mark)\n")
        case "name"?:
            Console.out("\(nameKind)/\(name)\n")
        case "yaml"?:
            Console.out(KubectlObjectPrinter.yaml(result))
        case "json"?:
            // A typed object prints in its fields' order; what the server sent back, sorted.
            Console.out(dryRun == "client" ? result.pretty(indent: "    ") + "\n" : KubectlObjectPrinter.json(result))
        case let format?:
            throw KubectlError.message("error: unable to match a printer suitable for the output format \"\(format)\", allowed formats are: json,name,yaml")
        }
    }
}
