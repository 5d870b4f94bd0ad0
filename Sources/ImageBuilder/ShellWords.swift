import Platform

/// BuildKit's shell lexer for the instructions docker expands itself (FROM, COPY, ADD, ENV, LABEL,
/// WORKDIR, USER, EXPOSE, STOPSIGNAL, ARG, VOLUME): `$VAR`, `${VAR}`, `${VAR:-default}`,
/// `${VAR:+alternative}`, single quotes (literal), double quotes (expanding), the escape character.
public struct ShellWords: Sendable {
    public var escape: Character
    public var environment: [String: String]

    public init(escape: Character = "\\", environment: [String: String]) {
        self.escape = escape
        self.environment = environment
    }

    /// Splits into words on unquoted white space, expanding and removing quotes.
    public func words(_ text: String) throws -> [String] {
        try lex(text, split: true)
    }

    /// One word: white space is kept, quotes removed, variables expanded (WORKDIR, USER).
    public func word(_ text: String) throws -> String {
        try lex(text, split: false).joined()
    }

    private func lex(_ text: String, split: Bool) throws -> [String] {
        let characters = Array(text)
        var words: [String] = []
        var current = ""
        var inWord = false
        var i = 0
        while i < characters.count {
            let c = characters[i]
            if split && (c == " " || c == "\t") {
                if inWord { words.append(current) }
                current = ""
                inWord = false
                i += 1
                continue
            }
            inWord = true
            if c == escape {
                i += 1
                if i < characters.count { current.append(characters[i]) }
                i += 1
            } else if c == "'" {
                i += 1
                while i < characters.count && characters[i] != "'" {
                    current.append(characters[i])
                    i += 1
                }
                guard i < characters.count else { throw OnekubeError(.invalidArgument, "unexpected end of statement while looking for matching single-quote") }
                i += 1
            } else if c == "\"" {
                i += 1
                while i < characters.count && characters[i] != "\"" {
                    if characters[i] == escape, i + 1 < characters.count, "\"$`\\".contains(characters[i + 1]) || characters[i + 1] == escape {
                        current.append(characters[i + 1])
                        i += 2
                    } else if characters[i] == "$" {
                        current += try variable(characters, &i)
                    } else {
                        current.append(characters[i])
                        i += 1
                    }
                }
                guard i < characters.count else { throw OnekubeError(.invalidArgument, "unexpected end of statement while looking for matching double-quote") }
                i += 1
            } else if c == "$" {
                current += try variable(characters, &i)
            } else {
                current.append(c)
                i += 1
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// Expands the variable at `characters[i]` (a `$`) and moves past it.
    private func variable(_ characters: [Character], _ i: inout Int) throws -> String {
        i += 1
        guard i < characters.count else { return "$" }
        if characters[i] == "{" {
            i += 1
            var name = ""
            while i < characters.count, characters[i].isLetter || characters[i].isNumber || characters[i] == "_" {
                name.append(characters[i])
                i += 1
            }
            guard i < characters.count else { throw OnekubeError(.invalidArgument, "missing '}' in ${\(name)") }
            if characters[i] == "}" {
                i += 1
                return environment[name] ?? ""
            }
            guard characters[i] == ":", i + 1 < characters.count else {
                throw OnekubeError(.invalidArgument, "unsupported modifier (\(characters[i])) in substitution")
            }
            let modifier = characters[i + 1]
            i += 2
            var word = ""
            var depth = 0
            while i < characters.count, characters[i] != "}" || depth > 0 {
                if characters[i] == "{" { depth += 1 }
                if characters[i] == "}" { depth -= 1 }
                word.append(characters[i])
                i += 1
            }
            guard i < characters.count else { throw OnekubeError(.invalidArgument, "missing '}' in ${\(name)") }
            i += 1
            let value = environment[name] ?? ""
            let expandedWord = try ShellWords(escape: escape, environment: environment).word(word)
            switch modifier {
            case "-": return value.isEmpty ? expandedWord : value
            case "+": return value.isEmpty ? "" : expandedWord
            default: throw OnekubeError(.invalidArgument, "unsupported modifier (\(modifier)) in substitution")
            }
        }
        var name = ""
        while i < characters.count, characters[i].isLetter || characters[i].isNumber || characters[i] == "_" {
            name.append(characters[i])
            i += 1
        }
        if name.isEmpty { return "$" }
        return environment[name] ?? ""
    }

    /// `KEY=value KEY2="v 2"` pairs, or the legacy `KEY value with spaces` (ENV, LABEL).
    public func keyValuePairs(_ text: String, instruction: String) throws -> [(String, String)] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let firstWordEnd = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? trimmed.endIndex
        if !trimmed[..<firstWordEnd].contains("=") {
            let key = String(trimmed[..<firstWordEnd])
            let value = trimmed[firstWordEnd...].trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { throw OnekubeError(.invalidArgument, "\(instruction) must have two arguments") }
            return [(key, try word(value))]
        }
        return try words(trimmed).map { pair in
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw OnekubeError(.invalidArgument, "Syntax error - can't find = in \"\(pair)\". Must be of the form: name=value")
            }
            return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
        }
    }
}
