/// Go's text/tabwriter, as kubectl describe configures it (minwidth 0, padding 2, spaces): text
/// is cells separated by tabs; a column is aligned over each run of consecutive lines that have a
/// cell in it, and a line's last (not tab-terminated) cell is never padded.
struct GoTabWriter {
    var minWidth = 0
    var padding = 2
    private var lines: [[String]] = []
    private var partial = ""

    init(minWidth: Int = 0, padding: Int = 2) {
        self.minWidth = minWidth
        self.padding = padding
    }

    /// Appends text; lines end at "\n".
    mutating func write(_ text: String) {
        partial += text
        while let newline = partial.firstIndex(of: "\n") {
            lines.append(partial[..<newline].split(separator: "\t", omittingEmptySubsequences: false).map(String.init))
            partial = String(partial[partial.index(after: newline)...])
        }
    }

    /// The aligned text of everything written so far; the writer starts over.
    mutating func flush() -> String {
        var out = ""
        var widths: [Int] = []
        format(0, lines.count, widths: &widths, into: &out)
        lines = []
        return out + partial
    }

    private func format(_ start: Int, _ end: Int, widths: inout [Int], into out: inout String) {
        let column = widths.count
        var line0 = start
        var this = start
        while this < end {
            if column >= lines[this].count - 1 {
                this += 1
                continue
            }
            write(line0, this, widths: widths, into: &out)
            line0 = this
            var width = minWidth
            while this < end, column < lines[this].count - 1 {
                width = max(width, lines[this][column].count + padding)
                this += 1
            }
            widths.append(width)
            format(line0, this, widths: &widths, into: &out)
            widths.removeLast()
            line0 = this
        }
        write(line0, end, widths: widths, into: &out)
    }

    private func write(_ start: Int, _ end: Int, widths: [Int], into out: inout String) {
        for index in start..<end {
            for (j, cell) in lines[index].enumerated() {
                out += cell
                if j < widths.count, j < lines[index].count - 1 {
                    out += String(repeating: " ", count: max(0, widths[j] - cell.count))
                }
            }
            out += "\n"
        }
    }
}
