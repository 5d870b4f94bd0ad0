import ArgumentParser
import Foundation
import Platform

/// `kubectl get TYPE[,TYPE…] [NAME…]` with the server's Tables, or the objects as json, yaml or names.
struct KubectlGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Display one or many resources.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "TYPE[,TYPE...] [NAME...], or TYPE/NAME...") var arguments: [String] = []
    @Option(name: .shortAndLong, help: "Output format: wide, json, yaml, name, jsonpath=TEMPLATE, custom-columns=SPEC.") var output: String?
    @Option(name: [.customShort("l"), .customLong("selector")], help: "Label selector.") var selector: String?
    @Option(name: .customLong("field-selector"), help: "Field selector.") var fieldSelector: String?
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "List across all namespaces.") var allNamespaces = false
    @Flag(name: .customLong("show-labels"), help: "Show labels as the last column.") var showLabels = false
    @Option(name: [.customShort("L"), .customLong("label-columns")], help: "Labels to show as columns.") var labelColumns: [String] = []
    @Flag(name: [.short, .customLong("watch")], help: "After listing, watch for changes.") var watch = false
    @Option(name: .customLong("sort-by"), help: "Sort by the field a JSONPath expression names (e.g. .metadata.name).") var sortBy: String?

    func run() async throws {
        try await KubectlCommand.report {
            guard !arguments.isEmpty else {
                throw KubectlError.message("""
                    You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.

                    error: Required resource not specified.
                    Use "kubectl explain <resource>" for a detailed description of that resource (e.g. kubectl explain pods).
                    See 'kubectl get -h' for help and examples
                    """)
            }
            let session = try global.session()
            let sorter = try sortBy.map(KubectlSortBy.init)
            let requests = try KubectlTargets.parse(arguments, discovery: session.discovery)
            let namespace = allNamespaces ? nil : session.context.namespace
            var out = ""
            var objects: [(OrderedJSON, ResourceDiscovery.ResourceType)] = []
            let several = requests.count > 1 || arguments.first?.lowercased() == "all"
            var tables: [(table: OrderedJSON, printer: KubectlTablePrinter)] = []
            for request in requests {
                let type = request.type
                let scope = type.namespaced ? namespace : nil
                var query: [String] = []
                if let selector { query.append("labelSelector=" + KubectlTargets.escape(selector)) }
                if let fieldSelector { query.append("fieldSelector=" + KubectlTargets.escape(fieldSelector)) }
                let suffix = query.isEmpty ? "" : "?" + query.joined(separator: "&")
                let tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
                if output == nil || output == "wide" {
                    let printer = KubectlTablePrinter(wide: output == "wide", allNamespaces: allNamespaces && type.namespaced,
                                                      showLabels: showLabels,
                                                      labelColumns: labelColumns.flatMap { $0.split(separator: ",").map(String.init) },
                                                      namePrefix: several ? type.nameKind : nil)
                    var table: OrderedJSON
                    if request.names.isEmpty {
                        // Sorting a table needs each row's whole object.
                        table = try session.client.list(type, namespace: scope, labelSelector: selector, fieldSelector: fieldSelector,
                                                        extraQuery: sorter == nil ? [] : ["includeObject=Object"], accept: tableAccept)
                    } else {
                        var rows: [OrderedJSON] = []
                        table = .null
                        for name in request.names {
                            let one = try session.client.expect("GET", type.objectPath(namespace: scope, name: name), accept: tableAccept)
                            if table.isNull { table = one }
                            rows += one["rows"]?.arrayValue ?? []
                        }
                        table["rows"] = .array(rows)
                    }
                    if watch, request.names.isEmpty {
                        try await Self.watch(session, type: type, scope: scope, suffix: suffix, table: table, printer: printer)
                        return
                    }
                    guard !(table["rows"]?.arrayValue ?? []).isEmpty else { continue }
                    if let sorter {
                        let rows = table["rows"]?.arrayValue ?? []
                        // kubectl's table sorter drops the rows when none has the field.
                        guard rows.count < 2 || rows.contains(where: { !sorter.path.values($0["object"] ?? .null).isEmpty }) else { continue }
                        table["rows"] = .array(try sorter.sort(rows) { $0["object"] ?? .null })
                    }
                    tables.append((table, printer))
                } else if request.names.isEmpty {
                    let list = try session.client.list(type, namespace: scope, labelSelector: selector, fieldSelector: fieldSelector)
                    let kind = type.kind
                    for item in list["items"]?.arrayValue ?? [] {
                        var object = item
                        object["apiVersion"] = .string(type.groupVersion)
                        object["kind"] = .string(kind)
                        objects.append((object, type))
                    }
                } else {
                    for name in request.names {
                        objects.append((try session.client.expect("GET", type.objectPath(namespace: scope, name: name)), type))
                    }
                }
            }
            // Several types' tables are sorted among themselves too, by the Table objects' own
            // fields, as kubectl sorts the list it gets (so most paths find nothing there).
            if let sorter, tables.count > 1 { tables = try sorter.sort(tables) { $0.table } }
            for (index, (table, printer)) in tables.enumerated() {
                if index > 0 { out += "\n" }
                out += printer.render(table)
            }
            let printedTables = tables.count
            let single = requests.count == 1 && requests[0].names.count == 1
            if let sorter, !single { objects = try sorter.sort(objects) { $0.0 } }
            switch output {
            case nil, "wide":
                if printedTables == 0 {
                    if allNamespaces || !(requests.first?.type.namespaced ?? true) {
                        Console.err("No resources found\n")
                    } else {
                        Console.err("No resources found in \(namespace ?? "default") namespace.\n")
                    }
                }
            case "name":
                out = objects.map { KubectlObjectPrinter.name($0.0, type: $0.1) + "\n" }.joined()
            case "json":
                out = KubectlObjectPrinter.json(single ? objects[0].0 : KubectlObjectPrinter.list(objects.map(\.0)))
            case "yaml":
                out = KubectlObjectPrinter.yaml(single ? objects[0].0 : KubectlObjectPrinter.list(objects.map(\.0)))
            case let format? where format.hasPrefix("jsonpath="):
                let expression = String(format.dropFirst("jsonpath=".count))
                let template: KubectlJSONPath
                do {
                    template = try KubectlJSONPath(expression)
                } catch {
                    throw KubectlError.message("error: error parsing jsonpath \(expression), \(error)")
                }
                out = template.render(single ? objects[0].0 : KubectlObjectPrinter.list(objects.map(\.0)))
            case let format? where format.hasPrefix("custom-columns="):
                out = try KubectlCustomColumns(String(format.dropFirst("custom-columns=".count))).render(objects.map(\.0))
            case let format?:
                throw KubectlError.message("error: unable to match a printer suitable for the output format \"\(format)\", allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml")
            }
            Console.out(out)
        }
    }
}

extension KubectlGetCommand {
    /// Prints the list, then each change, until interrupted.
    static func watch(_ session: KubectlGlobalOptions.Session, type: ResourceDiscovery.ResourceType, scope: String?, suffix: String,
                      table: OrderedJSON, printer: KubectlTablePrinter) async throws {
        let lines = LineCollector(printer: printer, columns: table)
        // An empty list prints nothing (not even "No resources found"): the header comes with the first row.
        if !(table["rows"]?.arrayValue ?? []).isEmpty {
            Console.out(lines.print([printer.header(table)] + printer.rows(table, columns: table)))
        }
        let version = table[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
        let separator = suffix.isEmpty ? "?" : "&"
        let path = type.collectionPath(namespace: scope) + suffix + separator + "watch=true&resourceVersion=\(version)"
        try await session.client.stream(path, accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json") { bytes in
            lines.feed(bytes)
        }
    }

    /// Splits the watch stream into events and prints their rows.
    final class LineCollector: @unchecked Sendable {
        let printer: KubectlTablePrinter
        let columns: OrderedJSON
        private var buffer: [UInt8] = []
        private var widths = KubectlWatchPrinter()
        private var headerPrinted = false

        init(printer: KubectlTablePrinter, columns: OrderedJSON) {
            self.printer = printer
            self.columns = columns
        }

        func print(_ rows: [[String]]) -> String {
            headerPrinted = true
            return widths.lines(rows)
        }

        func feed(_ bytes: [UInt8]) {
            buffer += bytes
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                guard let event = try? OrderedJSON(parsing: line), let object = event["object"] else { continue }
                var rows = printer.rows(object, columns: columns)
                if !headerPrinted { rows.insert(printer.header(columns), at: 0) }
                Console.out(print(rows))
            }
        }
    }
}

/// What the user named: `pods`, `pods kubia`, `pods,svc`, `pod/kubia svc/kubia-http`, `all`.
enum KubectlTargets {
    struct Request {
        var type: ResourceDiscovery.ResourceType
        var names: [String]
    }

    static func parse(_ arguments: [String], discovery: ResourceDiscovery) throws -> [Request] {
        guard let first = arguments.first else {
            throw KubectlError.message("error: You must specify the type of resource to describe. Use \"kubectl api-resources\" for a complete list of supported resources.")
        }
        if arguments.contains(where: { $0.contains("/") }) && !arguments.allSatisfy({ $0.contains("/") }) {
            throw KubectlError.message("error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'")
        }
        if first.contains("/") {
            return try arguments.map { argument in
                let parts = argument.split(separator: "/", maxSplits: 1).map(String.init)
                guard parts.count == 2 else {
                    throw KubectlError.message("error: arguments in resource/name form must have a single resource and name")
                }
                return Request(type: try discovery.find(parts[0]), names: [parts[1]])
            }
        }
        let names = Array(arguments.dropFirst())
        return try first.split(separator: ",").flatMap { typed -> [Request] in
            if typed.lowercased() == "all" { return discovery.all.map { Request(type: $0, names: names) } }
            return [Request(type: try discovery.find(String(typed)), names: names)]
        }
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}
