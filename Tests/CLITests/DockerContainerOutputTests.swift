import Foundation
@testable import CLI
import Platform
import Testing

@Suite("docker run flags and ps output")
struct DockerContainerOutputTests {
    @Test(arguments: [
        ("8080", [PortSpec(hostIP: "", hostPort: "", containerPort: 8080, proto: "tcp")]),
        ("8080:80", [PortSpec(hostIP: "", hostPort: "8080", containerPort: 80, proto: "tcp")]),
        ("127.0.0.1:8080:80", [PortSpec(hostIP: "127.0.0.1", hostPort: "8080", containerPort: 80, proto: "tcp")]),
        ("127.0.0.1::80/udp", [PortSpec(hostIP: "127.0.0.1", hostPort: "", containerPort: 80, proto: "udp")]),
        ("8000-8001:80-81", [PortSpec(hostIP: "", hostPort: "8000", containerPort: 80, proto: "tcp"),
                             PortSpec(hostIP: "", hostPort: "8001", containerPort: 81, proto: "tcp")]),
        ("[::1]:8080:80", [PortSpec(hostIP: "::1", hostPort: "8080", containerPort: 80, proto: "tcp")]),
    ])
    func portSpecsParseAsDocker(text: String, expected: [PortSpec]) throws {
        #expect(try PortSpec.parse(text) == expected)
    }

    @Test(arguments: ["", "abc", "8080:abc", "1.2.3:80:80", "80/xyz", "70000", "8000-8002:80-81", "1:2:3:4"])
    func badPortSpecsAreRefused(text: String) {
        #expect(throws: PortSpecError.self) { try PortSpec.parse(text) }
    }

    @Test(arguments: [("32m", 33_554_432), ("1g", 1_073_741_824), ("512k", 524_288), ("100", 100), ("64MB", 67_108_864), ("1.5g", 1_610_612_736)] as [(String, Int64)])
    func memorySizes(text: String, bytes: Int64) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test func badMemorySizes() {
        #expect(ByteSize.parse("lots") == nil)
        #expect(ByteSize.parse("-1m") == nil)
    }

    @Test func psColumnsAsDocker() throws {
        #expect(DockerPs.ellipsis("sh -c 'mkdir -p /www; echo'", 20) == "sh -c 'mkdir -p /ww…")
        #expect(DockerPs.ellipsis("echo hi", 20) == "echo hi")
        #expect(GoQuote.quote("sh -c 'echo \"You've…") == #""sh -c 'echo \"You've…""#)
        #expect(GoQuote.quote("a\tb\\") == #""a\tb\\""#)
        let ports = try OrderedJSON(parsing: Array("""
            [{"IP":"0.0.0.0","PrivatePort":8080,"PublicPort":8080,"Type":"tcp"},{"PrivatePort":53,"Type":"udp"}]
            """.utf8))
        #expect(DockerPs.ports(ports.arrayValue ?? []) == "0.0.0.0:8080->8080/tcp, 53/udp")
    }

    @Test func runErrorsPickDockersExitCodes() {
        #expect(ContainerCreation.runError(DockerCLIError(message: "exec: \"x\": executable file not found in $PATH")).exitCode == 127)
        #expect(ContainerCreation.runError(DockerCLIError(message: "exec: \"/etc\": is a directory")).exitCode == 126)
        let conflict = ContainerCreation.runError(DockerCLIError(message: "Error response from daemon: Conflict."))
        #expect(conflict.exitCode == 125)
        #expect(conflict.message == "docker: Error response from daemon: Conflict.\n\nRun 'docker run --help' for more information")
    }

    @Test func historyTableAsTheDockerCLIPrintsIt() throws {
        let steps = try OrderedJSON(parsing: Array("""
            [{"Comment":"","Created":1700000000,"CreatedBy":"ENTRYPOINT [\\"/bin/sh\\" \\"/app.sh\\"]","Id":"sha256:0123456789abcdef0123","Size":0,"Tags":["kubia:latest"]},
             {"Comment":"buildkit.dockerfile.v0","Created":1699990000,"CreatedBy":"RUN /bin/sh -c apt-get update &&\\tapt-get install -y curl ca-certificates","Id":"<missing>","Size":12345678,"Tags":null}]
            """.utf8)).arrayValue ?? []
        let now = Date(timeIntervalSince1970: 1700000000 + 3 * 3600)
        #expect(DockerHistory.render(steps, human: true, truncate: true, quiet: false, now: now) == """
            IMAGE          CREATED       CREATED BY                                      SIZE      COMMENT
            0123456789ab   3 hours ago   ENTRYPOINT ["/bin/sh" "/app.sh"]                0B        
            <missing>      6 hours ago   RUN /bin/sh -c apt-get update && apt-get ins…   12.3MB    buildkit.dockerfile.v0

            """)
        #expect(DockerHistory.render(steps, human: true, truncate: true, quiet: true, now: now) == "0123456789ab\n<missing>\n")
        let raw = DockerHistory.render(steps, human: false, truncate: false, quiet: false, now: now)
        #expect(raw.hasPrefix("IMAGE ") && raw.contains(" CREATED AT ") && raw.contains("sha256:0123456789abcdef0123") && raw.contains(" 12345678 ") && raw.contains("apt-get install -y curl ca-certificates"), "\(raw)")
        #expect(GoBool.parse("False") == false && GoBool.parse("1") == true && GoBool.parse("yes") == nil)
    }

    @Test func portLinesSortNaturallyAsTheCLISortsThem() {
        let sorted = ["8080/tcp -> 0.0.0.0:8080", "80/tcp -> [::]:80", "9000/udp -> 0.0.0.0:9000", "80/tcp -> 0.0.0.0:80", "443/tcp -> 0.0.0.0:443"]
            .sorted(by: DockerPort.naturalLess)
        #expect(sorted == ["80/tcp -> 0.0.0.0:80", "80/tcp -> [::]:80", "443/tcp -> 0.0.0.0:443", "8080/tcp -> 0.0.0.0:8080", "9000/udp -> 0.0.0.0:9000"])
        #expect(DockerPort.naturalLess("a2", "a10") && !DockerPort.naturalLess("a10", "a2") && DockerPort.naturalLess("a01", "a001"))
        #expect(DockerPort.naturalLess("1x", "x1") && DockerPort.naturalLess("ab", "abc"))
    }
}
