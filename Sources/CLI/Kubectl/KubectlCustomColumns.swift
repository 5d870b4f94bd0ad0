import Platform

/// `-o custom-columns=HEADER:PATH,…` as kubectl prints it: a column per spec, each cell the
/// values its JSONPath finds joined by commas (Go's %v of each), `<none>` when it finds none,
/// aligned by the same tabwriter as kubectl's tables.
struct KubectlCustomColumns {
    let columns: [(header: String, path: KubectlJSONPath)]

    init(_ spec: String) throws {
        columns = try spec.split(separator: ",", omittingEmptySubsequences: false).map { part in
            let pieces = part.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard pieces.count == 2 else {
                throw KubectlError.message("error: unexpected custom-columns spec: \(part), expected <header>:<json-path-expr>")
            }
            do {
                return (String(pieces[0]), try KubectlJSONPath(KubectlJSONPath.relaxed(String(pieces[1]))))
            } catch {
                throw KubectlError.message("error: error parsing jsonpath \(KubectlJSONPath.relaxed(String(pieces[1]))), \(error)")
            }
        }
    }

    func render(_ objects: [OrderedJSON]) -> String {
        var writer = GoTabWriter(minWidth: 6, padding: 3)
        writer.write(columns.map(\.header).joined(separator: "\t") + "\n")
        for object in objects {
            let cells = columns.map { column -> String in
                let values = column.path.values(object)
                return values.isEmpty ? "<none>" : values.map(KubectlJSONPath.goValue).joined(separator: ",")
            }
            writer.write(cells.joined(separator: "\t") + "\n")
        }
        return writer.flush()
    }
}
