import Platform
import Testing
@testable import ImageBuilder

@Suite struct DockerfileParserTests {
    @Test func continuationsCommentsAndForms() throws {
        let text = """
            # a comment
            FROM busybox AS base

            RUN echo one \\
                # a comment inside the continuation
                two
            CMD ["node", "app.js"]
            ENTRYPOINT node app.js
            copy --from=base --chown=1:2 /a /b
            """
        let file = try Dockerfile.parse(text)
        #expect(file.instructions.map(\.keyword) == ["FROM", "RUN", "CMD", "ENTRYPOINT", "COPY"])
        #expect(file.instructions.map(\.line) == [2, 4, 7, 8, 9])
        #expect(file.instructions[1].arguments == "echo one     two")
        #expect(file.instructions[1].json == nil)
        #expect(file.instructions[2].json == ["node", "app.js"])
        #expect(file.instructions[3].json == nil)
        #expect(file.instructions[4].flags == ["from": "base", "chown": "1:2"])
        #expect(file.instructions[4].arguments == "/a /b")
    }

    @Test func escapeDirective() throws {
        let file = try Dockerfile.parse("# escape=`\nFROM scratch\nCOPY a `\n  b /\n")
        #expect(file.escape == "`")
        #expect(file.instructions[1].arguments == "a   b /")
    }

    @Test(arguments: [
        ("FROM busybox\nRUN true\nFRM x\n", "Dockerfile parse error line 3: unknown instruction: FRM"),
        ("FROM busybox\nSHELL /bin/bash -c\n", "Dockerfile parse error line 2: SHELL requires the arguments to be in JSON form"),
        ("FROM busybox\nRUN\n", "Dockerfile parse error line 2: RUN requires at least one argument"),
    ])
    func errorsNameTheLine(text: String, message: String) {
        #expect(throws: OnekubeError(.invalidArgument, message)) { try Dockerfile.parse(text) }
    }
}

@Suite struct ShellWordsTests {
    let words = ShellWords(environment: ["NAME": "kubia", "EMPTY": "", "SPACED": "a b"])

    @Test(arguments: [
        ("$NAME:${NAME}", ["kubia:kubia"]),
        ("${EMPTY:-default} ${NAME:+set}", ["default", "set"]),
        ("'$NAME' \"$NAME x\"", ["$NAME", "kubia x"]),
        ("a\\ b c", ["a b", "c"]),
        ("$SPACED", ["a b"]),
    ])
    func expansion(text: String, expected: [String]) throws {
        #expect(try words.words(text) == expected)
    }

    @Test func keyValuePairs() throws {
        let pairs = try words.keyValuePairs("A=1 B=\"two words\" C=$NAME", instruction: "ENV")
        #expect(pairs.map(\.0) == ["A", "B", "C"])
        #expect(pairs.map(\.1) == ["1", "two words", "kubia"])
        let legacy = try words.keyValuePairs("GREETING hello  world", instruction: "ENV")
        #expect(legacy.map(\.0) == ["GREETING"])
        #expect(legacy.map(\.1) == ["hello  world"])
    }
}

@Suite struct DockerIgnoreTests {
    @Test(arguments: [
        ("node_modules", true), ("node_modules/x/y.js", true), ("src/app.js", false), ("src/debug.log", true),
        ("debug.log", true), ("keep.log", false), (".git/config", true), ("docs/a/b.md", true), ("README.md", false),
    ])
    func matching(path: String, excluded: Bool) throws {
        let ignore = try DockerIgnore("""
            # comment
            node_modules
            **/*.log
            !keep.log
            .git
            docs/**/*.md
            """)
        #expect(ignore.excludes(path) == excluded)
    }
}
