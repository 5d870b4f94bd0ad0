import Foundation
import Glibc
import Platform
import TestSupport
import Testing

@Suite("The daemon: start, status, stop, delete, crash recovery")
struct DaemonLifecycleTests {
    @Test func startAnswersAndStopLeavesNothing() throws {
        let onekube = try OnekubeInstance()
        #expect(onekube.startResult?.stdout.contains("running") == true)
        #expect(FileManager.default.fileExists(atPath: onekube.socketPath))
        var st = stat()
        stat(onekube.socketPath, &st)
        #expect(st.st_mode & 0o777 == 0o660)

        let status = try onekube.onekube(["status"])
        #expect(status.status == 0)
        #expect(status.stdout.contains("onekube: Running"))

        let again = try Run.checked(OnekubeInstance.binary, ["start", "--data-dir", onekube.dataDirectory])
        #expect(again.stdout.contains("already running"))

        let version = try onekube.docker(["version"])
        #expect(version.status == 0, "\(version)")
        #expect(version.stdout.contains("API version:      1.50 (minimum version 1.24)"))

        try onekube.stop()
        let stopped = try onekube.onekube(["status"])
        #expect(stopped.status == 7)
        #expect(stopped.stdout.contains("onekube: Stopped"))
        #expect(!FileManager.default.fileExists(atPath: onekube.socketPath))
        #expect(!FileManager.default.fileExists(atPath: onekube.dataDirectory + "/run/onekube.pid"))
    }

    /// A login session's soft limit of open files (1024 on most laptops) would cap the proxy at
    /// a few hundred connections: the daemon raises its soft limit to the hard one.
    @Test func theDaemonRaisesItsOpenFileLimit() throws {
        var original = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &original)
        var lowered = original
        lowered.rlim_cur = min(1024, original.rlim_max / 2)
        #expect(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered) == 0)
        let started = Result { try OnekubeInstance() }
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &original)
        let onekube = try started.get()
        let pid = try #require(onekube.pid)
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let line = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") }.map(String.init) ?? ""
        let fields = line.split(separator: " ").filter { !$0.isEmpty }
        #expect(fields.count >= 5 && fields[3] == "\(original.rlim_max)" && fields[4] == "\(original.rlim_max)", "\(line)")
    }

    @Test func killedDaemonIsReplacedAndItsLeftoversCleaned() throws {
        let onekube = try OnekubeInstance()
        let pid = try #require(onekube.pid)
        kill(pid, SIGKILL)
        try waitUntil("the killed daemon to be gone") { (try onekube.onekube(["status"])).status == 7 }
        // What a crash mid-pull leaves: a half-unpacked layer and a blob no image references.
        let orphanLayer = onekube.dataDirectory + "/layers/.tmp-" + String(repeating: "a", count: 64) + "-1"
        try FileManager.default.createDirectory(atPath: orphanLayer + "/bin", withIntermediateDirectories: true)
        let orphanBlob = onekube.dataDirectory + "/blobs/sha256/" + String(repeating: "b", count: 64)
        try "junk".write(toFile: orphanBlob, atomically: true, encoding: .utf8)
        #expect(FileManager.default.fileExists(atPath: onekube.socketPath), "the stale socket is still there")

        try onekube.start()
        #expect(try #require(onekube.pid) != pid)
        #expect(try onekube.docker(["images"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: orphanLayer))
        #expect(!FileManager.default.fileExists(atPath: orphanBlob))
    }

    @Test func startSaysWhyTheDaemonCouldNotStart() throws {
        let onekube = try OnekubeInstance(start: false)
        // A directory where the database should be: the daemon fails after it was spawned.
        try FileManager.default.createDirectory(atPath: onekube.dataDirectory + "/state.db", withIntermediateDirectories: true)
        let result = try Run.program(OnekubeInstance.binary, ["start", "--data-dir", onekube.dataDirectory])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("onekube failed to start:"), "\(result)")
        #expect(result.stderr.contains("state.db"), "\(result)")
        #expect(try onekube.onekube(["status"]).status == 7)
    }

    @Test func clientsSayWhenTheDaemonIsNotRunning() throws {
        let onekube = try OnekubeInstance(start: false)
        let result = try onekube.docker(["images"])
        #expect(result.status == 1)
        #expect(result.stderr == "onekube is not running (start it with: sudo onekube start)\n")
        let pull = try onekube.docker(["pull", "busybox"])
        #expect(pull.status == 1)
        #expect(pull.stderr.contains("onekube is not running"))
    }

    @Test func deleteStopsAndRemovesTheDataDirectory() throws {
        let onekube = try OnekubeInstance()
        let result = try onekube.onekube(["delete"])
        #expect(result.status == 0, "\(result)")
        #expect(!FileManager.default.fileExists(atPath: onekube.dataDirectory))
        #expect(try onekube.onekube(["status"]).status == 7)
    }

    @Test func theBinaryInvokedAsDockerIsTheDockerMode() throws {
        let onekube = try OnekubeInstance()
        let bin = try TemporaryDirectory("onekube-bin")
        try FileManager.default.createSymbolicLink(atPath: bin.path + "/docker", withDestinationPath: OnekubeInstance.binary)
        let images = try Run.program(bin.path + "/docker", ["images"],
                                     environment: ["ONEKUBE_DATA_DIR": onekube.dataDirectory, "DOCKER_HOST": ""])
        #expect(images.status == 0, "\(images)")
        #expect(images.stdout == "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n")
    }

    @Test func dockerEnvPointsTheRealCLIAtOnekube() throws {
        let onekube = try OnekubeInstance()
        let env = try onekube.onekube(["docker-env"])
        #expect(env.stdout.hasPrefix("export DOCKER_HOST=\"\(onekube.dockerHost)\"\n"))
        let version = try Run.program("bash", ["-c", "eval \"$(\(OnekubeInstance.binary) docker-env)\" && docker version"],
                                      environment: ["ONEKUBE_DATA_DIR": onekube.dataDirectory])
        #expect(version.status == 0, "\(version)")
        #expect(version.stdout.contains("onekube"))
        #expect(!version.stdout.contains("downgraded"))
    }
}
