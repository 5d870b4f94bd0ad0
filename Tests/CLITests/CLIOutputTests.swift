import Testing
@testable import CLI
import Platform

@Suite("docker-style output")
struct CLIOutputTests {
    @Test func tableMatchesDockerImages() {
        var table = TableWriter(minWidth: 10, padding: 3)
        table.add(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"])
        table.add(["busybox", "latest", "cc1597e9f8f7", "11 months ago", "1.98MB"])
        #expect(table.render() == """
            REPOSITORY   TAG       IMAGE ID       CREATED         SIZE
            busybox      latest    cc1597e9f8f7   11 months ago   1.98MB

            """)
    }

    static let durationCases: [(Double, String)] = [
        (0.5, "Less than a second"), (1, "1 second"), (59, "59 seconds"), (60, "About a minute"), (150, "2 minutes"),
        (3600, "About an hour"), (7200, "2 hours"), (259_200, "3 days"), (1_728_000, "2 weeks"),
        (7_776_000, "3 months"), (69_120_000, "2 years"),
    ]

    @Test("durations as go-units words them", arguments: durationCases)
    func durations(seconds: Double, text: String) {
        #expect(HumanDuration.describe(seconds: seconds) == text)
    }

    @Test func queryEncodingIsGoStyle() {
        #expect(DockerClient.encodeQuery([("fromImage", "docker.io/library/busybox"), ("tag", "latest")])
            == "fromImage=docker.io%2Flibrary%2Fbusybox&tag=latest")
        #expect(GoURL.queryEscape("a b!") == "a+b%21")
    }

    func render(_ lines: [String], terminal: Bool) -> (String, DockerCLIError?) {
        var out = ""
        let renderer = JSONMessageRenderer(isTerminal: terminal, width: 120, output: { out += $0 })
        let bytes = Array(lines.joined(separator: "\r\n").utf8)
        _ = bytes.withUnsafeBytes { renderer.feed($0) }
        renderer.finish()
        return (out, renderer.failure)
    }

    static let pull = [
        #"{"status":"Pulling from library/busybox","id":"latest"}"#,
        #"{"status":"Pulling fs layer","progressDetail":{},"id":"97e70d161e81"}"#,
        #"{"status":"Downloading","progressDetail":{"current":1425970,"total":4277910},"progress":"[=>  ]","id":"97e70d161e81"}"#,
        #"{"status":"Download complete","progressDetail":{},"id":"97e70d161e81"}"#,
        #"{"status":"Pull complete","progressDetail":{},"id":"97e70d161e81"}"#,
        #"{"status":"Digest: sha256:abc"}"#,
        #"{"status":"Status: Downloaded newer image for busybox:latest"}"#,
    ]

    @Test func pipeOutputSkipsProgressBars() {
        let (out, failure) = render(Self.pull, terminal: false)
        #expect(failure == nil)
        #expect(out == """
            latest: Pulling from library/busybox
            97e70d161e81: Pulling fs layer
            97e70d161e81: Download complete
            97e70d161e81: Pull complete
            Digest: sha256:abc
            Status: Downloaded newer image for busybox:latest

            """)
    }

    @Test func terminalOutputRedrawsLinesInPlace() {
        let (out, _) = render(Array(Self.pull.prefix(3)), terminal: true)
        #expect(out.contains("\u{1B}[1A\u{1B}[2K\r97e70d161e81: Downloading [================>"))
        #expect(out.contains("1.426MB/4.278MB"))
    }

    @Test func errorDetailStopsRendering() {
        let (out, failure) = render([
            #"{"status":"Pulling from library/x","id":"latest"}"#,
            #"{"errorDetail":{"message":"filesystem layer verification failed"},"error":"filesystem layer verification failed"}"#,
            #"{"status":"never shown"}"#,
        ], terminal: false)
        #expect(failure?.message == "filesystem layer verification failed")
        #expect(!out.contains("never shown"))
    }
}
