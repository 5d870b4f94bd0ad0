import Foundation
import Platform

/// One instruction of a Dockerfile, as written: continuations joined, comments dropped, nothing
/// expanded yet (expansion needs the build's ARG and ENV values at that point).
public struct DockerfileInstruction: Sendable, Equatable {
    /// Upper case: `FROM`, `RUN`, …
    public var keyword: String
    /// Leading `--name=value` flags (COPY --from, COPY --chown, FROM --platform, HEALTHCHECK --interval).
    public var flags: [String: String]
    /// What follows the keyword and the flags.
    public var arguments: String
    /// The exec (JSON array) form, when the arguments are one.
    public var json: [String]?
    /// 1-based line where the instruction starts.
    public var line: Int
    /// The instruction as docker prints it in `Step n/m : …`.
    public var original: String
}

/// A parsed Dockerfile: its escape character and instructions.
public struct Dockerfile: Sendable {
    public var escape: Character
    public var instructions: [DockerfileInstruction]

    static let knownKeywords: Set<String> = [
        "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
        "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
    ]
    /// Instructions whose arguments may be a JSON array (BuildKit's parser treats these alike).
    static let jsonKeywords: Set<String> = ["RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"]
    static let flagKeywords: Set<String> = ["FROM", "COPY", "ADD", "RUN", "HEALTHCHECK"]

    /// Parses Dockerfile text. Errors name the line as moby does:
    /// `Dockerfile parse error line 3: unknown instruction: FRM`.
    public static func parse(_ text: String) throws -> Dockerfile {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var escape: Character = "\\"
        var index = 0
        // Parser directives: `# name=value` lines at the very top, before any blank line or comment.
        while index < lines.count, let directive = Self.directive(lines[index]) {
            if directive.name == "escape" {
                guard directive.value == "\\" || directive.value == "`" else {
                    throw parseError(line: index + 1, "invalid escape token '\(directive.value)' does not match ` or \\")
                }
                escape = Character(directive.value)
            }
            index += 1
        }
        var instructions: [DockerfileInstruction] = []
        while index < lines.count {
            var startLine = index + 1
            var logical = ""
            var continued = true
            while continued && index < lines.count {
                let raw = lines[index]
                index += 1
                let trimmed = raw.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("#") { continue }
                // Blank lines inside a continuation are dropped, as BuildKit does.
                if trimmed.isEmpty && !logical.isEmpty { continue }
                if logical.isEmpty { startLine = index }
                let withoutTrailing = String(raw.reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
                if withoutTrailing.last == escape {
                    logical += String(withoutTrailing.dropLast())
                    continued = true
                } else {
                    logical += raw
                    continued = false
                }
                if logical.trimmingCharacters(in: .whitespaces).isEmpty { break }
            }
            let statement = logical.trimmingCharacters(in: .whitespaces)
            if statement.isEmpty { continue }
            instructions.append(try instruction(statement, line: startLine))
        }
        return Dockerfile(escape: escape, instructions: instructions)
    }

    static func parseError(line: Int, _ message: String) -> OnekubeError {
        OnekubeError(.invalidArgument, "Dockerfile parse error line \(line): \(message)")
    }

    static func directive(_ line: String) -> (name: String, value: String)? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("#") else { return nil }
        let body = trimmed.dropFirst().trimmingCharacters(in: .whitespaces)
        guard let equals = body.firstIndex(of: "=") else { return nil }
        let name = body[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter }) else { return nil }
        return (name, body[body.index(after: equals)...].trimmingCharacters(in: .whitespaces))
    }

    static func instruction(_ statement: String, line: Int) throws -> DockerfileInstruction {
        let keywordEnd = statement.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? statement.endIndex
        let keyword = statement[..<keywordEnd].uppercased()
        guard knownKeywords.contains(keyword) else {
            throw parseError(line: line, "unknown instruction: \(keyword)")
        }
        var rest = statement[keywordEnd...].trimmingCharacters(in: .whitespaces)
        var flags: [String: String] = [:]
        if flagKeywords.contains(keyword) {
            while rest.hasPrefix("--") {
                let end = rest.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? rest.endIndex
                let flag = rest[rest.index(rest.startIndex, offsetBy: 2)..<end]
                let parts = flag.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                flags[String(parts[0])] = parts.count > 1 ? String(parts[1]) : "true"
                rest = rest[end...].trimmingCharacters(in: .whitespaces)
            }
        }
        var json: [String]?
        if jsonKeywords.contains(keyword), rest.hasPrefix("["),
           let array = try? JSONSerialization.jsonObject(with: Data(rest.utf8)) as? [Any],
           array.allSatisfy({ $0 is String }) {
            json = array.compactMap { $0 as? String }
        }
        if keyword == "SHELL" && json == nil {
            throw parseError(line: line, "SHELL requires the arguments to be in JSON form")
        }
        if rest.isEmpty && keyword != "HEALTHCHECK" {
            throw parseError(line: line, "\(keyword) requires at least one argument")
        }
        return DockerfileInstruction(keyword: keyword, flags: flags, arguments: rest, json: json, line: line, original: statement)
    }
}
