import Foundation
import Glibc
import Platform
import TestSupport
import Testing

/// The book's section 2.1 end to end, with onekube's docker mode and with the real docker CLI.
@Suite("Section 2.1: run, ps, inspect, logs, exec, stop, start, restart, rm")
struct ContainerWalkthroughTests {
    @Test(arguments: DockerClientKind.allCases)
    func helloWorld(client: DockerClientKind) throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let run = try onekube.docker(client, ["run", "busybox", "echo", "Hello world"])
        #expect(run.status == 0, "\(run)\n\(onekube.daemonLog)")
        #expect(run.stdout == "Hello world\n")
        #expect(run.stderr.hasPrefix("Unable to find image 'busybox:latest' locally\n"), "\(run)")
        #expect(run.stderr.contains("Status: Downloaded newer image for busybox:latest"), "\(run)")

        let again = try onekube.docker(client, ["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(again.status == 3, "\(again)")
        #expect(again.stdout == "out\n")
        #expect(again.stderr == "err\n")

        let ps = try onekube.docker(client, ["ps", "-a"])
        let lines = ps.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("CONTAINER ID   IMAGE     COMMAND                CREATED") == true, "\(ps)")
        #expect(lines.count == 2, "the --rm container is gone: \(ps)")
        #expect(lines.last?.contains("busybox   \"echo 'Hello world'\"") == true, "\(ps)")
        #expect(lines.last?.contains("Exited (0)") == true, "\(ps)")
    }

    @Test(arguments: DockerClientKind.allCases)
    func kubiaContainer(client: DockerClientKind) throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let port = try freePort()
        let before = try HostFootprint.of(onekube)

        let run = try onekube.docker(client, ["run", "--name", "kubia-container", "-p", "\(port):8080", "-d", "luksa/kubia"])
        #expect(run.status == 0, "\(run)\n\(onekube.daemonLog)")
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 64 && id.allSatisfy(\.isHexDigit), "\(run)")
        let shortID = String(id.prefix(12))

        try waitUntil("the app to answer on 127.0.0.1:\(port)") {
            (try? Run.program("curl", ["-s", "--max-time", "2", "127.0.0.1:\(port)"]))?.stdout == "You've hit \(shortID)\n"
        }

        let ps = try onekube.docker(client, ["ps"])
        #expect(ps.stdout.contains("\(shortID)   luksa/kubia   \"sh -c 'echo \\\"You've…\""), "\(ps)")
        #expect(ps.stdout.contains("Up "), "\(ps)")
        #expect(ps.stdout.contains("0.0.0.0:\(port)->8080/tcp   kubia-container\n"), "\(ps)")
        #expect(try onekube.docker(client, ["ps", "-q"]).stdout == shortID + "\n")

        let inspect = try onekube.docker(client, ["inspect", "kubia-container"])
        #expect(inspect.status == 0, "\(inspect)")
        let object = try #require((try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [[String: Any]])?.first)
        #expect(object["Id"] as? String == id)
        let state = try #require(object["State"] as? [String: Any])
        #expect(state["Status"] as? String == "running")
        #expect(state["Running"] as? Bool == true)
        let pid = try #require(state["Pid"] as? Int)
        #expect((object["Config"] as? [String: Any])?["Hostname"] as? String == shortID)
        #expect((object["Config"] as? [String: Any])?["ExposedPorts"] as? [String: Any] != nil)
        #expect((object["HostConfig"] as? [String: Any])?["PortBindings"] != nil)
        let ip = try #require((object["NetworkSettings"] as? [String: Any])?["IPAddress"] as? String)
        #expect(ip.hasPrefix(String(onekube.podCIDR.prefix(while: { $0 != "/" }).dropLast(1))), "\(ip) in \(onekube.podCIDR)")
        #expect(try onekube.docker(client, ["inspect", "-f", "{{.State.Status}}", "kubia-container"]).stdout == "running\n")

        // The container sees itself as PID 1 and no host process.
        let exec = try onekube.docker(client, ["exec", "kubia-container", "ps"])
        #expect(exec.status == 0, "\(exec)")
        let processes = exec.stdout.split(separator: "\n").dropFirst()
        #expect(processes.count == 2, "\(exec)")
        #expect(processes.first?.hasPrefix("    1 root     httpd -f -p 8080 -h /www") == true, "\(exec)")
        #expect(try onekube.docker(client, ["exec", "kubia-container", "hostname"]).stdout == shortID + "\n")
        #expect(try onekube.docker(client, ["exec", "kubia-container", "sh", "-c", "exit 4"]).status == 4)

        let logs = try onekube.docker(client, ["logs", "kubia-container"])
        #expect(logs.status == 0, "\(logs)")

        let stop = try onekube.docker(client, ["stop", "-t", "1", "kubia-container"])
        #expect(stop.status == 0 && stop.stdout == "kubia-container\n", "\(stop)")
        #expect(!ProcessSpawner.isAlive(Int32(pid)))
        let stopped = try onekube.docker(client, ["ps", "-a"])
        #expect(stopped.stdout.contains("Exited (137)"), "busybox httpd ignores SIGTERM as PID 1: \(stopped)")
        #expect(try onekube.docker(client, ["stop", "kubia-container"]).stdout == "kubia-container\n", "already stopped: 304")

        #expect(try onekube.docker(client, ["start", "kubia-container"]).stdout == "kubia-container\n")
        try waitUntil("the restarted app to answer") {
            (try? Run.program("curl", ["-s", "--max-time", "2", "127.0.0.1:\(port)"]))?.stdout == "You've hit \(shortID)\n"
        }
        #expect(try onekube.docker(client, ["restart", "-t", "1", "kubia-container"]).status == 0)
        try waitUntil("the app to answer after restart") {
            (try? Run.program("curl", ["-s", "--max-time", "2", "127.0.0.1:\(port)"]))?.stdout == "You've hit \(shortID)\n"
        }

        let rm = try onekube.docker(client, ["rm", "kubia-container"])
        #expect(rm.status == 1)
        #expect(rm.stderr == "Error response from daemon: cannot remove container \"kubia-container\": container is running: stop the container before removing or force remove\n")
        let running = try onekube.docker(client, ["inspect", "-f", "{{.State.Pid}}", "kubia-container"])
        let runningPID = try #require(Int32(running.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let namespace = try #require(HostFootprint.networkNamespace(of: runningPID))
        #expect(try onekube.docker(client, ["rm", "-f", "kubia-container"]).stdout == "kubia-container\n")
        #expect(try onekube.docker(client, ["ps", "-a", "-q"]).stdout == "")
        try waitUntil("the container's network namespace to go") { !HostFootprint.namespaceInUse(namespace) }
        try waitUntil("the footprint to be back to \(before)") { try HostFootprint.of(onekube) == before }
        #expect(!FileManager.default.fileExists(atPath: onekube.dataDirectory + "/containers/" + id))
        let refused = try Run.program("curl", ["-s", "--max-time", "2", "127.0.0.1:\(port)"])
        #expect(refused.status != 0, "the forwarder is gone")
    }
}
