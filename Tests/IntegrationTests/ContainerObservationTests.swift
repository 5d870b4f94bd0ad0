import Foundation
import Glibc
import Platform
import TestSupport
import Testing

@Suite("Watching containers: logs -f, top, stats, wait, start -a, attach")
struct ContainerObservationTests {
    @Test(arguments: DockerClientKind.allCases)
    func followTopStatsAndStartAttached(client: DockerClientKind) throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let script = "i=0; while [ $i -lt 15 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done; echo done >&2"
        #expect(try onekube.docker(client, ["run", "-d", "--name", "ticker", "busybox", "sh", "-c", script]).status == 0)

        // -f follows until the container stops, then ends by itself.
        let follow = try onekube.docker(client, ["logs", "-f", "ticker"])
        #expect(follow.status == 0, "\(follow)")
        #expect(follow.stdout == (0..<15).map { "tick \($0)\n" }.joined(), "\(follow)")
        #expect(follow.stderr == "done\n")
        // --tail counts the lines of both streams together, as docker's log files do.
        let tail = try onekube.docker(client, ["logs", "--tail", "2", "ticker"])
        #expect(tail.stdout == "tick 14\n" && tail.stderr == "done\n", "\(tail)")
        let stamped = try onekube.docker(client, ["logs", "-t", "--tail", "1", "ticker"]).stderr
        #expect(stamped.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z done\n$"#, options: .regularExpression) != nil, "\(stamped)")
        #expect(try onekube.docker(client, ["wait", "ticker"]).stdout == "0\n")

        // start -a: attached again, with the container's exit code.
        let again = try onekube.docker(client, ["start", "-a", "ticker"])
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.hasPrefix("tick 0\n") && again.stdout.hasSuffix("tick 14\n"), "\(again)")

        #expect(try onekube.docker(client, ["run", "-d", "--name", "sleeper", "busybox", "sleep", "1000"]).status == 0)
        if client == .real {
            let top = try onekube.realDocker(["top", "sleeper"])
            #expect(top.status == 0, "\(top)")
            #expect(top.stdout.hasPrefix("UID"), "\(top)")
            #expect(top.stdout.contains("sleep 1000"), "\(top)")
            let stats = try onekube.realDocker(["stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "sleeper"])
            #expect(stats.stdout == "sleeper 1\n", "\(stats)")
        }
        let sleeperPID = try #require(Int32(try onekube.docker(client, ["inspect", "-f", "{{.State.Pid}}", "sleeper"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try onekube.docker(client, ["rm", "-f", "sleeper", "ticker"]).status == 0)
        try waitUntil("the sleeper to be gone") { !ProcessSpawner.isAlive(sleeperPID) }
    }
}
