/// Column alignment like Go's text/tabwriter as the docker and kubectl CLIs configure it: each
/// column is as wide as its widest cell plus `padding`, at least `minWidth`; the last cell of a
/// row is not padded.
struct TableWriter {
    var minWidth: Int
    var padding: Int
    private var rows: [[String]] = []

    init(minWidth: Int, padding: Int) {
        self.minWidth = minWidth
        self.padding = padding
    }

    mutating func add(_ cells: [String]) { rows.append(cells) }

    func render() -> String {
        var widths: [Int] = []
        for row in rows {
            for (i, cell) in row.dropLast().enumerated() {
                let w = max(cell.count + padding, minWidth)
                if i < widths.count { widths[i] = max(widths[i], w) } else { widths.append(w) }
            }
        }
        var out = ""
        for row in rows {
            for (i, cell) in row.enumerated() {
                if i == row.count - 1 {
                    out += cell
                } else {
                    out += cell + String(repeating: " ", count: widths[i] - cell.count)
                }
            }
            out += "\n"
        }
        return out
    }
}
