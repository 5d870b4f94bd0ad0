import Glibc
import Platform

/// Which standard stream output came from.
public enum OutputStream: String, Codable, Sendable {
    case stdout, stderr
}

/// A piece of a process's output as it arrived.
public struct OutputChunk: Sendable, Equatable {
    public var stream: OutputStream
    public var bytes: [UInt8]
    public var time: Timestamp

    public init(stream: OutputStream, bytes: [UInt8], time: Timestamp) {
        self.stream = stream
        self.bytes = bytes
        self.time = time
    }
}

/// A container's log in the CRI format the kubelet uses (`<time> <stream> <F|P> <text>`): one
/// line per output line, `P` for a partial line (output that did not end in a newline yet). The
/// bytes of a stream are exactly the concatenation of its entries (with `\n` after `F` ones).
public enum ContainerLog {
    public struct Entry: Sendable, Equatable {
        public var time: Timestamp
        public var stream: OutputStream
        public var bytes: [UInt8]
        /// Whether `bytes` ends a line (and then `bytes` includes the newline).
        public var complete: Bool
    }

    /// The log text for one chunk of output.
    public static func encode(_ chunk: OutputChunk) -> [UInt8] {
        var out: [UInt8] = []
        let prefix = Array("\(chunk.time.rfc3339Nano) \(chunk.stream.rawValue) ".utf8)
        var lineStart = 0
        for (i, byte) in chunk.bytes.enumerated() where byte == UInt8(ascii: "\n") {
            out += prefix + Array("F ".utf8) + chunk.bytes[lineStart..<i] + [UInt8(ascii: "\n")]
            lineStart = i + 1
        }
        if lineStart < chunk.bytes.count {
            out += prefix + Array("P ".utf8) + chunk.bytes[lineStart...] + [UInt8(ascii: "\n")]
        }
        return out
    }

    public static func decode(_ bytes: [UInt8]) -> [Entry] {
        var entries: [Entry] = []
        var start = 0
        let newline = UInt8(ascii: "\n"), space = UInt8(ascii: " ")
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: newline) ?? bytes.count
            let line = bytes[start..<end]
            start = end + 1
            guard let firstSpace = line.firstIndex(of: space),
                  let secondSpace = line[(firstSpace + 1)...].firstIndex(of: space),
                  secondSpace + 2 <= line.endIndex,
                  let time = Timestamp(rfc3339: String(decoding: line[line.startIndex..<firstSpace], as: UTF8.self)),
                  let stream = OutputStream(rawValue: String(decoding: line[(firstSpace + 1)..<secondSpace], as: UTF8.self))
            else { continue }
            let tag = line[secondSpace + 1]
            let textStart = min(secondSpace + 3, line.endIndex)
            var text = Array(line[textStart...])
            let complete = tag == UInt8(ascii: "F")
            if complete { text.append(newline) }
            entries.append(Entry(time: time, stream: stream, bytes: text, complete: complete))
        }
        return entries
    }

    /// The last `lines` lines (complete lines; a trailing partial line counts as one).
    public static func tail(_ entries: [Entry], lines: Int) -> [Entry] {
        guard lines >= 0 else { return entries }
        var count = 0
        var index = entries.count
        while index > 0 {
            let entry = entries[index - 1]
            if entry.complete || index == entries.count {
                if count == lines { break }
                count += 1
            }
            index -= 1
        }
        return Array(entries[index...])
    }
}
