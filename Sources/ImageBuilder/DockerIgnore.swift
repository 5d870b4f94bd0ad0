import Foundation
import Platform

/// `.dockerignore` as moby's patternmatcher reads it: one pattern a line, `#` comments, `!`
/// re-includes, `*`/`?`/`[…]` within a path element, `**` across elements. A path is excluded when
/// the last pattern matching it, or one of its parent directories, is not a `!` pattern.
public struct DockerIgnore: Sendable {
    struct Pattern: Sendable {
        var regex: NSRegularExpression
        var exclusion: Bool
    }

    let patterns: [Pattern]

    public init(_ text: String) throws {
        var patterns: [Pattern] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            var exclusion = false
            if line.hasPrefix("!") {
                exclusion = true
                line = String(line.dropFirst()).trimmingCharacters(in: .whitespaces)
            }
            let cleaned = Self.clean(line)
            if cleaned.isEmpty { continue }
            do {
                patterns.append(Pattern(regex: try NSRegularExpression(pattern: Self.regex(cleaned)), exclusion: exclusion))
            } catch {
                throw OnekubeError(.invalidArgument, "invalid .dockerignore pattern \(line)", cause: "\(error)")
            }
        }
        self.patterns = patterns
    }

    public var isEmpty: Bool { patterns.isEmpty }

    /// Whether some `!` pattern re-includes paths.
    public var hasExceptions: Bool { patterns.contains(where: \.exclusion) }

    /// Whether `path` (relative to the context root, `/`-separated) is left out of the context.
    public func excludes(_ path: String) -> Bool {
        let cleaned = Self.clean(path)
        let elements = cleaned.split(separator: "/").map(String.init)
        var parents: [String] = []
        for count in stride(from: 1, to: elements.count, by: 1) { parents.append(elements.prefix(count).joined(separator: "/")) }
        var excluded = false
        for pattern in patterns {
            if pattern.matches(cleaned) || parents.contains(where: pattern.matches) { excluded = !pattern.exclusion }
        }
        return excluded
    }

    /// filepath.Clean without the leading `/` (context paths are relative).
    static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for element in path.split(separator: "/") where element != "." && !element.isEmpty {
            if element == ".." { _ = parts.popLast() } else { parts.append(element) }
        }
        return parts.joined(separator: "/")
    }

    static func regex(_ pattern: String) -> String {
        var out = "^"
        let characters = Array(pattern)
        var i = 0
        while i < characters.count {
            let c = characters[i]
            switch c {
            case "*":
                if i + 1 < characters.count && characters[i + 1] == "*" {
                    i += 1
                    // `**/` also matches no directory at all.
                    if i + 1 < characters.count && characters[i + 1] == "/" {
                        i += 1
                        out += "(.*/)?"
                    } else {
                        out += ".*"
                    }
                } else {
                    out += "[^/]*"
                }
            case "?": out += "[^/]"
            case "[":
                var j = i + 1
                var set = "["
                if j < characters.count && (characters[j] == "!" || characters[j] == "^") {
                    set += "^"
                    j += 1
                }
                while j < characters.count && characters[j] != "]" {
                    if characters[j] == "\\" { set += "\\\\" } else { set.append(characters[j]) }
                    j += 1
                }
                out += set + "]"
                i = j
            case "\\":
                if i + 1 < characters.count {
                    i += 1
                    out += NSRegularExpression.escapedPattern(for: String(characters[i]))
                }
            default:
                out += NSRegularExpression.escapedPattern(for: String(c))
            }
            i += 1
        }
        return out + "$"
    }
}

extension DockerIgnore.Pattern {
    func matches(_ path: String) -> Bool {
        regex.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
    }
}
