import ArgumentParser
import Foundation
import Glibc
import Platform
import Yams

/// `kubectl edit TYPE NAME`: the object as YAML in $KUBE_EDITOR or $EDITOR (vi by default); what
/// changed goes back as a merge patch.
struct KubectlEditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "edit", abstract: "Edit a resource on the server.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "TYPE NAME or TYPE/NAME") var target: [String] = []

    static let header = """
        # Please edit the object below. Lines beginning with a '#' will be ignored,
        # and an empty file will abort the edit. If an error occurs while saving this file will be
        # reopened with the relevant failures.
        #

        """

    func run() async throws {
        try await KubectlCommand.report {
            let session = try global.session()
            guard !target.isEmpty else {
                throw KubectlError.message("error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'")
            }
            var failed = false
            for request in try KubectlTargets.parse(target, discovery: session.discovery) {
                let scope = request.type.namespaced ? session.context.namespace : nil
                for name in request.names {
                    let path = request.type.objectPath(namespace: scope, name: name)
                    var original = try session.client.expect("GET", path)
                    original["apiVersion"] = .string(request.type.groupVersion)
                    original["kind"] = .string(request.type.kind)
                    if var metadata = original["metadata"], case .object(let fields) = metadata {
                        metadata = .object(fields.filter { $0.0 != "managedFields" })
                        original["metadata"] = metadata
                    }
                    let text = KubectlYAML.render(original)
                    guard let edited = try Self.edit(Self.header + text, name: "\(request.type.plural)-\(name)"), !Self.same(edited, original) else {
                        Console.err("Edit cancelled, no changes made.\n")
                        continue
                    }
                    for field in [["apiVersion"], ["kind"], ["metadata", "name"]] where edited[path: field] != original[path: field] {
                        throw KubectlError.message("error: At least one of apiVersion, kind and name was changed")
                    }
                    let patch = Self.mergePatch(from: original, to: edited)
                    let response = try session.client.request("PATCH", path, body: patch, contentType: "application/merge-patch+json")
                    guard (200..<300).contains(response.status) else {
                        failed = true
                        if case .message(let message) = KubeAPIClient.failure(response) { Console.err(message + "\n") }
                        continue
                    }
                    Console.out("\(request.type.nameKind)/\(name) edited\n")
                }
            }
            if failed { throw ExitCode(1) }
        }
    }

    /// Writes `text` to a temporary file, runs the editor on it, returns what it holds then
    /// (comments dropped) as JSON; nil when it was emptied.
    static func edit(_ text: String, name: String) throws -> OrderedJSON? {
        let file = NSTemporaryDirectory() + "kubectl-edit-\(getpid())-\(name).yaml"
        try FileSystem.overwrite(file, text, mode: 0o600)
        defer { unlink(file) }
        let environment = ProcessInfo.processInfo.environment
        let editor = [environment["KUBE_EDITOR"], environment["EDITOR"]].compactMap { $0 }.first { !$0.isEmpty } ?? "vi"
        // As kubectl: an editor with arguments or shell syntax runs through the shell.
        let (program, arguments) = editor.contains(where: { " \t|&;$'\"".contains($0) })
            ? ("/bin/sh", ["-c", "\(editor) \(file)"]) : (editor, [file])
        let pid = try ProcessSpawner.spawnInheritingStdio(executable: program, arguments: arguments,
                                                          environment: environment.map { "\($0.key)=\($0.value)" })
        let status = try ProcessSpawner.wait(pid)
        guard status == 0 else { throw KubectlError.message("error: there was a problem with the editor \"\(editor)\"") }
        let content = try FileSystem.readString(file).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("#") }.joined(separator: "\n")
        guard !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        guard let document = try KubectlManifests.parse(content, source: "edited file").first else { return nil }
        return document.object
    }

    /// RFC 7386: what turns `original` into `modified` (objects merged key by key, removed keys
    /// set to null, anything else replaced whole).
    static func mergePatch(from original: OrderedJSON, to modified: OrderedJSON) -> OrderedJSON {
        guard case .object(let before) = original, case .object(let after) = modified else { return modified }
        var patch: [(String, OrderedJSON)] = []
        for (key, value) in after {
            guard let old = before.first(where: { $0.0 == key })?.1 else {
                patch.append((key, value))
                continue
            }
            if same(old, value) { continue }
            if case .object = old, case .object = value {
                patch.append((key, mergePatch(from: old, to: value)))
            } else {
                patch.append((key, value))
            }
        }
        for (key, _) in before where !after.contains(where: { $0.0 == key }) { patch.append((key, .null)) }
        return .object(patch)
    }

    /// Equal as JSON values: keys in any order (the edited YAML has them sorted), numbers by value.
    static func same(_ a: OrderedJSON, _ b: OrderedJSON) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            return x.allSatisfy { key, value in y.first { $0.0 == key }.map { same(value, $0.1) } ?? false }
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)):
            return Double(x) == y
        default:
            return a == b
        }
    }
}
