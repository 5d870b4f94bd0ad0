import Platform

/// Server-side Tables printed as kubectl prints them: upper-case headers, wide columns only with
/// `-o wide`, NAMESPACE first with `-A`, LABELS last with `--show-labels`, `kind/name` when
/// several types are listed, columns aligned like Go's tabwriter (padding 3).
struct KubectlTablePrinter {
    var wide = false
    var allNamespaces = false
    var showLabels = false
    /// `pod`, `deployment.apps`: set when the names carry their type.
    var namePrefix: String?

    func render(_ table: OrderedJSON, includeHeader: Bool = true) -> String {
        let columns = table["columnDefinitions"]?.arrayValue ?? []
        let shown = columns.indices.filter { wide || (columns[$0]["priority"]?.intValue ?? 0) == 0 }
        var writer = TableWriter(minWidth: 6, padding: 3)
        var header = shown.map { (columns[$0]["name"]?.stringValue ?? "").uppercased() }
        if allNamespaces { header.insert("NAMESPACE", at: 0) }
        if showLabels { header.append("LABELS") }
        if includeHeader { writer.add(header) }
        for row in table["rows"]?.arrayValue ?? [] {
            let cells = row["cells"]?.arrayValue ?? []
            var line = shown.map { index -> String in
                guard index < cells.count else { return "" }
                let text = Self.cellText(cells[index])
                if index == 0, let namePrefix { return "\(namePrefix)/\(text)" }
                return text
            }
            let metadata = row[path: ["object", "metadata"]]
            if allNamespaces { line.insert(metadata?["namespace"]?.stringValue ?? "", at: 0) }
            if showLabels {
                let labels = (metadata?["labels"]?.stringMap ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                line.append(labels.isEmpty ? "<none>" : labels.joined(separator: ","))
            }
            writer.add(line)
        }
        return writer.render()
    }

    static func cellText(_ cell: OrderedJSON) -> String {
        switch cell {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "<none>"
        default: return cell.serialized()
        }
    }
}
