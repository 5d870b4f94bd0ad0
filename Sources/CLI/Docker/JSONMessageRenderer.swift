import Foundation
import Platform

/// Renders a JSON message stream (pull, push, build, load) as the docker CLI's jsonmessage does:
/// on a terminal every id keeps its own line, redrawn in place with a progress bar; otherwise
/// progress-bar messages are skipped and everything else prints as `<id>: <status>`.
final class JSONMessageRenderer {
    let isTerminal: Bool
    let width: Int
    /// Only watch for errors (`docker pull -q`).
    let quiet: Bool
    let output: (String) -> Void
    private var lineOfID: [String: Int] = [:]
    private var pending: [UInt8] = []
    private(set) var failure: DockerCLIError?

    init(isTerminal: Bool = Console.stdoutIsTerminal, width: Int = Console.width, quiet: Bool = false,
         output: @escaping (String) -> Void = Console.out) {
        self.isTerminal = isTerminal && !quiet
        self.width = width
        self.quiet = quiet
        self.output = output
    }

    /// Feeds raw bytes; complete lines are rendered. Returns false once an error message arrived.
    func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        pending.append(contentsOf: bytes)
        while failure == nil, let newline = pending.firstIndex(of: 10) {
            let line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            render(line)
        }
        return failure == nil
    }

    func finish() {
        if failure == nil, !pending.isEmpty { render(pending) }
        pending = []
    }

    private func render(_ line: [UInt8]) {
        let trimmed = line.filter { $0 != 13 }
        guard !trimmed.isEmpty, let message = try? OrderedJSON(parsing: trimmed) else { return }
        if let detail = message["errorDetail"], let text = detail["message"]?.stringValue {
            failure = DockerCLIError(message: text, exitCode: Int32(detail["code"]?.intValue ?? 1))
            return
        }
        if message["aux"] != nil || quiet { return }
        let id = message["id"]?.stringValue ?? ""
        let progress = message["progressDetail"]
        var diff = 0
        if !id.isEmpty && progress != nil {
            let line: Int
            if let known = lineOfID[id] {
                line = known
            } else {
                line = lineOfID.count
                lineOfID[id] = line
                if isTerminal { output("\n") }
            }
            diff = lineOfID.count - line
            if isTerminal && diff > 0 { output("\u{1B}[\(diff)A") }
        } else {
            lineOfID = [:]
        }
        display(message, id: id, progress: progress)
        if !id.isEmpty && isTerminal && diff > 0 { output("\u{1B}[\(diff)B") }
    }

    private func display(_ message: OrderedJSON, id: String, progress: OrderedJSON?) {
        let status = message["status"]?.stringValue ?? ""
        let stream = message["stream"]?.stringValue ?? ""
        let bar = progress.map(progressString) ?? ""
        var endl = ""
        if isTerminal && stream.isEmpty && progress != nil {
            output("\u{1B}[2K\r")
            endl = "\r"
        } else if progress != nil && !bar.isEmpty {
            return  // no progress bars off a terminal
        }
        var out = id.isEmpty ? "" : "\(id): "
        if progress != nil && isTerminal {
            out += "\(status) \(bar)\(endl)"
        } else if !stream.isEmpty {
            out += "\(stream)\(endl)"
        } else {
            out += "\(status)\(endl)\n"
        }
        output(out)
    }

    /// jsonmessage.JSONProgress.String: a 50-column bar when the terminal is wider than 110.
    private func progressString(_ detail: OrderedJSON) -> String {
        let current = detail["current"]?.intValue ?? 0
        let total = detail["total"]?.intValue ?? 0
        if current <= 0 && total <= 0 { return "" }
        if total <= 0 {
            let text = HumanSize.decimal(current)
            return String(repeating: " ", count: max(8 - text.count, 0)) + text
        }
        var bar = ""
        if width > 110 {
            let filled = min(Int(Double(current) / Double(total) * 100) / 2, 50)
            bar = "[" + String(repeating: "=", count: filled) + ">" + String(repeating: " ", count: max(50 - filled, 0)) + "] "
        }
        guard current <= total else { return bar }
        let text = HumanSize.decimal(current)
        return bar + String(repeating: " ", count: max(8 - text.count, 0)) + text + "/" + HumanSize.decimal(total)
    }
}
