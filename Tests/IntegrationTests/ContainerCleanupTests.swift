import Foundation
import Glibc
import Platform
import TestSupport
import Testing

@Suite("Nothing leaks: after rm, after onekube stop, after kill -9 of the daemon")
struct ContainerCleanupTests {
    /// Starts `count` containers that keep running, one with a published port and an exec'd
    /// process; returns their init pids and network namespaces.
    func startContainers(_ onekube: OnekubeInstance, port: Int) throws -> [(pid: Int32, namespace: String)] {
        #expect(try onekube.docker(["run", "-d", "--name", "web", "-p", "\(port):8080", "luksa/kubia"]).status == 0)
        #expect(try onekube.docker(["run", "-d", "--name", "sleeper", "-m", "32m", "busybox", "sleep", "1000"]).status == 0)
        #expect(try onekube.docker(["exec", "-d", "sleeper", "sleep", "2000"]).status == 0)
        return try ["web", "sleeper"].map { name in
            let pid = try #require(Int32(try onekube.docker(["inspect", "-f", "{{.State.Pid}}", name]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)))
            return (pid, try #require(HostFootprint.networkNamespace(of: pid)))
        }
    }

    func expectGone(_ containers: [(pid: Int32, namespace: String)]) throws {
        for container in containers {
            try waitUntil("process \(container.pid) and its network namespace to go") {
                !ProcessSpawner.isAlive(container.pid) && !HostFootprint.namespaceInUse(container.namespace)
            }
        }
    }

    func portIsFree(_ port: Int) -> Bool {
        (try? Run.program("curl", ["-s", "--max-time", "1", "127.0.0.1:\(port)"]))?.status == 7
    }

    @Test func killedDaemonsContainersAreCleanedAtTheNextStart() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        #expect(try onekube.docker(["pull", "luksa/kubia"]).status == 0)
        #expect(try onekube.docker(["pull", "busybox"]).status == 0)
        let before = try HostFootprint.of(onekube)
        let port = try freePort()
        let containers = try startContainers(onekube, port: port)
        let running = try HostFootprint.of(onekube)
        #expect(running.cgroups.count > before.cgroups.count && running.veths.count == 2, "\(running)")

        let daemon = try #require(onekube.pid)
        kill(daemon, SIGKILL)
        try waitUntil("the daemon to die") { !ProcessSpawner.isAlive(daemon) }
        try onekube.start(["--registry-mirror", "http://\(images.registry.host)"])
        try expectGone(containers)
        try waitUntil("the footprint to be back to \(before)") { try HostFootprint.of(onekube) == before }
        #expect(portIsFree(port))
        let ps = try onekube.docker(["ps", "-a"])
        #expect(ps.stdout.components(separatedBy: "Exited (137)").count == 3, "\(ps)")

        // And they start again.
        #expect(try onekube.docker(["start", "web"]).status == 0)
        try waitUntil("web to answer again") {
            (try? Run.program("curl", ["-s", "--max-time", "1", "127.0.0.1:\(port)"]))?.stdout.hasPrefix("You've hit ") == true
        }
    }

    @Test func stopStopsEveryContainerAndLeavesNothing() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let port = try freePort()
        let containers = try startContainers(onekube, port: port)
        let stop = try onekube.onekube(["stop"])
        #expect(stop.status == 0, "\(stop)\n\(onekube.daemonLog)")
        try expectGone(containers)
        #expect(portIsFree(port))
        #expect(HostFootprint.cgroupParents(onekube).isEmpty, "the cgroup parents are removed")
        let link = try Run.program("ip", ["link", "show", onekube.bridge])
        #expect(link.status != 0, "the bridge is removed: \(link)")
        #expect(try HostFootprint.of(onekube).mounts == 0)
    }

    @Test func removedContainersLeaveNothing() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        #expect(try onekube.docker(["pull", "luksa/kubia"]).status == 0)
        #expect(try onekube.docker(["pull", "busybox"]).status == 0)
        let before = try HostFootprint.of(onekube)
        let port = try freePort()
        let containers = try startContainers(onekube, port: port)
        #expect(try onekube.docker(["run", "--rm", "busybox", "true"]).status == 0)
        #expect(try onekube.docker(["run", "--name", "done", "busybox", "true"]).status == 0)
        let rm = try onekube.docker(["rm", "-f", "web", "sleeper", "done"])
        #expect(rm.stdout == "web\nsleeper\ndone\n", "\(rm)")
        try expectGone(containers)
        try waitUntil("the footprint to be back to \(before)") { try HostFootprint.of(onekube) == before }
        #expect(portIsFree(port))
        #expect(try FileManager.default.contentsOfDirectory(atPath: onekube.dataDirectory + "/containers").isEmpty)
    }
}
