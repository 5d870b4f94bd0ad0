import Platform

/// Server-side Tables printed as kubectl prints them: upper-case headers, wide columns only with
/// `-o wide`, NAMESPACE first with `-A`, one column per `-L` label, LABELS last with
/// `--show-labels`, `kind/name` when several types are listed, columns aligned like Go's
/// tabwriter (padding 3, at least 6).
struct KubectlTablePrinter {
    var wide = false
    var allNamespaces = false
    var showLabels = false
    var labelColumns: [String] = []
    /// `pod`, `deployment.apps`: set when the names carry their type.
    var namePrefix: String?

    func render(_ table: OrderedJSON, includeHeader: Bool = true) -> String {
        var writer = TableWriter(minWidth: 6, padding: 3)
        if includeHeader { writer.add(header(table)) }
        for row in rows(table, columns: table) { writer.add(row) }
        return writer.render()
    }

    func header(_ table: OrderedJSON) -> [String] {
        let columns = table["columnDefinitions"]?.arrayValue ?? []
        var header = shownColumns(columns).map { (columns[$0]["name"]?.stringValue ?? "").uppercased() }
        if allNamespaces { header.insert("NAMESPACE", at: 0) }
        header += labelColumns.map { ($0.split(separator: "/").last.map(String.init) ?? $0).uppercased() }
        if showLabels { header.append("LABELS") }
        return header
    }

    func shownColumns(_ columns: [OrderedJSON]) -> [Int] {
        columns.indices.filter { wide || (columns[$0]["priority"]?.intValue ?? 0) == 0 }
    }

    /// The cells of `table`'s rows; `columns` is the Table whose column definitions apply (watch
    /// events' Tables come without them).
    func rows(_ table: OrderedJSON, columns: OrderedJSON) -> [[String]] {
        let shown = shownColumns(columns["columnDefinitions"]?.arrayValue ?? [])
        return (table["rows"]?.arrayValue ?? []).map { row in
            let cells = row["cells"]?.arrayValue ?? []
            var line = shown.map { index -> String in
                guard index < cells.count else { return "" }
                let text = Self.cellText(cells[index])
                if index == 0, let namePrefix { return "\(namePrefix)/\(text)" }
                return text
            }
            let metadata = row[path: ["object", "metadata"]]
            let labels = metadata?["labels"]?.stringMap ?? [:]
            if allNamespaces { line.insert(metadata?["namespace"]?.stringValue ?? "", at: 0) }
            line += labelColumns.map { labels[$0] ?? "" }
            if showLabels {
                let pairs = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                line.append(pairs.isEmpty ? "<none>" : pairs.joined(separator: ","))
            }
            return line
        }
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

/// `get -w`: rows printed as they come, each column as wide as the widest cell printed in it so
/// far (kubectl's writer keeps its widths across the watch).
struct KubectlWatchPrinter {
    private var widths: [Int] = []

    /// Rows printed together (the list, one event) align with each other and with what came before.
    mutating func lines(_ rows: [[String]]) -> String {
        for cells in rows {
            for (index, cell) in cells.dropLast().enumerated() {
                let width = max(cell.count + 3, 6)
                if index < widths.count { widths[index] = max(widths[index], width) } else { widths.append(width) }
            }
        }
        return rows.map { cells in
            var out = ""
            for (index, cell) in cells.enumerated() {
                out += cell
                if index < cells.count - 1 { out += String(repeating: " ", count: widths[index] - cell.count) }
            }
            return out + "\n"
        }.joined()
    }
}
