import Foundation
import Glibc
import Platform
import TestSupport
import Testing

/// The book's 2.1.2–2.1.3 and 2.1.7 with no registry at all: `docker build` of the offline kubia
/// (FROM scratch + the host's static busybox), run, cache, save/load, pods, and bad input.
@Suite("docker build, save, load")
struct BuildTests {
    /// A copy of Resources/examples/kubia-offline with the host's busybox in it, as README says.
    static func offlineKubia(in scratch: TemporaryDirectory) throws -> String {
        let directory = try scratch.sub("kubia-offline-\(UUID().uuidString.prefix(6))")
        let example = Fixtures.packageRoot + "/Resources/examples/kubia-offline"
        for name in ["Dockerfile", "app.sh", ".dockerignore"] {
            try FileManager.default.copyItem(atPath: example + "/" + name, toPath: directory + "/" + name)
        }
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: directory + "/busybox")
        return directory
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// `docker build` as each client runs it, in the context directory.
    static func build(_ onekube: OnekubeInstance, _ client: DockerClientKind, _ arguments: [String], in directory: String) throws -> ProcessResult {
        let (argv, environment) = onekube.dockerCommand(client)
        return try Run.program(argv[0], Array(argv.dropFirst()) + ["build"] + arguments, environment: environment, directory: directory)
    }

    /// The steps of a build's output that were taken from the cache.
    static func cachedSteps(_ output: String) -> [Int] {
        var cached: [Int] = []
        var step = 0
        for line in output.split(separator: "\n") {
            if line.hasPrefix("Step "), let number = Int(line.dropFirst(5).prefix { $0.isNumber }) { step = number }
            if line == " ---> Using cache" { cached.append(step) }
        }
        return cached
    }

    /// What a build may leave: no container, no mount under the data directory, only the builder's
    /// two fixed directories.
    static func expectNothingLeft(_ onekube: OnekubeInstance, _ client: DockerClientKind) throws {
        let ps = try onekube.docker(client, ["ps", "-a", "-q"])
        #expect(ps.stdout.isEmpty, "build containers left: \(ps)")
        let mountinfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mountinfo.contains(onekube.dataDirectory + "/build"), "\(mountinfo)")
        let left = try FileManager.default.contentsOfDirectory(atPath: onekube.dataDirectory + "/build").sorted()
        #expect(left == ["empty-layer", "init-layer"], "\(left)")
    }

    @Test(arguments: DockerClientKind.allCases)
    func offlineKubiaBuildsRunsAndCaches(client: DockerClientKind) throws {
        let scratch = try TemporaryDirectory("onekube-build")
        let context = try Self.offlineKubia(in: scratch)
        let onekube = try OnekubeInstance()

        let built = try Self.build(onekube, client, ["-t", "kubia", "."], in: context)
        #expect(built.status == 0, "\(built)\n\(onekube.daemonLog)")
        // The docker CLI ends its upload progress with `\r\r\n`.
        let lines = built.stdout.replacingOccurrences(of: "\r", with: "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first?.hasPrefix("Sending build context to Docker daemon  ") == true, "\(built)")
        #expect(lines.contains("Step 1/6 : FROM scratch"), "\(built)")
        #expect(lines.contains("Step 3/6 : RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]"), "\(built)")
        // A metadata step shows its intermediate container as the legacy builder does (the book's transcript).
        let entrypoint = try #require(lines.firstIndex(of: "Step 6/6 : ENTRYPOINT [\"/bin/sh\", \"/app.sh\"]"), "\(built)")
        let container = String(lines[entrypoint + 1].dropFirst(" ---> Running in ".count))
        #expect(lines[entrypoint + 1].hasPrefix(" ---> Running in ") && container.count == 12, "\(built)")
        #expect(lines[entrypoint + 2] == " ---> Removed intermediate container \(container)", "\(built)")
        #expect(lines[entrypoint + 3].hasPrefix(" ---> ") && lines[entrypoint + 3].count == 18, "\(built)")
        // ADD shows only the new ID.
        let add = try #require(lines.firstIndex(of: "Step 4/6 : ADD app.sh /app.sh"), "\(built)")
        #expect(lines[add + 1].count == 18 && lines[add + 2].hasPrefix("Step 5/6"), "\(built)")
        #expect(Self.cachedSteps(built.stdout).isEmpty, "\(built)")
        let successLine = try #require(lines.first { $0.hasPrefix("Successfully built ") }, "\(built)")
        let imageID = String(successLine.dropFirst("Successfully built ".count))
        #expect(imageID.count == 12, "\(built)")
        #expect(lines.contains("Successfully tagged kubia:latest"), "\(built)")

        let images = try onekube.docker(client, ["images"])
        #expect(images.stdout.contains("kubia        latest    \(imageID)"), "\(images)")
        try Self.expectNothingLeft(onekube, client)

        let port = try freePort()
        let run = try onekube.docker(client, ["run", "-d", "--name", "kubia-container", "-p", "127.0.0.1:\(port):8080", "kubia"])
        #expect(run.status == 0, "\(run)\n\(onekube.daemonLog)")
        let shortID = String(run.stdout.prefix(12))
        try waitUntil("the built kubia to answer on 127.0.0.1:\(port)") {
            (try? Run.program("curl", ["-s", "--max-time", "2", "127.0.0.1:\(port)"]))?.stdout == "You've hit \(shortID)\n"
        }
        #expect(try onekube.docker(client, ["rm", "-f", "kubia-container"]).status == 0)

        // Unchanged: every step after FROM from the cache, the same image.
        let again = try Self.build(onekube, client, ["-t", "kubia", "."], in: context)
        #expect(again.status == 0, "\(again)")
        #expect(Self.cachedSteps(again.stdout) == [2, 3, 4, 5, 6], "\(again)")
        #expect(again.stdout.contains("Successfully built \(imageID)\n"), "\(again)")

        // A changed app: the steps before its ADD stay cached, it and those after are rebuilt.
        try FileManager.default.removeItem(atPath: context + "/app.sh")
        try Self.write("#!/bin/sh\necho changed\nexec httpd -f -p 8080 -h /www\n", to: context + "/app.sh")
        let changed = try Self.build(onekube, client, ["-t", "kubia", "."], in: context)
        #expect(changed.status == 0, "\(changed)")
        #expect(Self.cachedSteps(changed.stdout) == [2, 3], "\(changed)")
        #expect(!changed.stdout.contains("Successfully built \(imageID)\n"), "\(changed)")
        try Self.expectNothingLeft(onekube, client)
    }

    @Test func multiStageArgsEnvWorkdirAndDockerignore() throws {
        let scratch = try TemporaryDirectory("onekube-build")
        let context = try Self.offlineKubia(in: scratch)
        try FileManager.default.createDirectory(atPath: context + "/files", withIntermediateDirectories: true)
        try Self.write("visible\n", to: context + "/files/kept.txt")
        try Self.write("do not send\n", to: context + "/files/secret.txt")
        try Self.write("files/secret*\n", to: context + "/.dockerignore")
        try Self.write("""
            FROM scratch AS tools
            COPY busybox /bin/busybox
            RUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir -p /out && echo from-the-first-stage > /out/msg"]

            # the image: only what it takes from the first stage
            FROM scratch
            ARG GREETING=hello
            ENV TARGET=world \\
                PATH=/bin
            COPY --from=tools /bin/busybox /bin/busybox
            COPY --from=tools /out/msg /msg
            WORKDIR /app
            COPY files/ ./
            RUN ["/bin/busybox", "sh", "-c", "echo \\"$GREETING $TARGET in $(/bin/busybox pwd): $(/bin/busybox ls /app)\\" > /app/out"]
            USER 1000
            LABEL stage=final
            STOPSIGNAL SIGINT
            HEALTHCHECK --interval=30s CMD ["/bin/busybox", "true"]
            CMD ["/bin/busybox", "cat", "/msg", "/app/out"]
            """, to: context + "/Dockerfile.multi")
        let onekube = try OnekubeInstance()
        let built = try Self.build(onekube, .builtIn, ["-f", "Dockerfile.multi", "--build-arg", "GREETING=hi", "-t", "multi", "."], in: context)
        #expect(built.status == 0, "\(built)\n\(onekube.daemonLog)")

        let run = try onekube.docker(["run", "--rm", "multi"])
        #expect(run.stdout == "from-the-first-stage\nhi world in /app: kept.txt\n", "\(run)")

        let inspect = try onekube.docker(["image", "inspect", "multi"])
        let image = try #require((try json(inspect.stdout) as? [[String: Any]])?.first, "\(inspect)")
        let config = try #require(image["Config"] as? [String: Any])
        #expect(config["User"] as? String == "1000")
        #expect(config["WorkingDir"] as? String == "/app")
        #expect(config["StopSignal"] as? String == "SIGINT")
        #expect((config["Env"] as? [String])?.contains("TARGET=world") == true, "\(config)")
        #expect((config["Labels"] as? [String: String]) == ["stage": "final"], "\(config)")
        #expect(((config["Healthcheck"] as? [String: Any])?["Test"] as? [String]) == ["CMD", "/bin/busybox", "true"], "\(config)")
        // busybox and msg (two COPY --from), the files, the RUN: nothing of the first stage's RUN.
        #expect(((image["RootFS"] as? [String: Any])?["Layers"] as? [String])?.count == 4, "\(image)")

        // --target stops after the named stage (the real CLI this time).
        let tools = try Self.build(onekube, .real, ["-f", "Dockerfile.multi", "--target", "tools", "-t", "tools", "."], in: context)
        #expect(tools.status == 0, "\(tools)")
        #expect(tools.stdout.contains("Step 3/16 : RUN") && !tools.stdout.contains("Step 4/16"), "\(tools)")
        #expect(try onekube.docker(["run", "--rm", "tools", "/bin/busybox", "cat", "/out/msg"]).stdout == "from-the-first-stage\n")

        // `docker image build -q` prints only the ID (here the cached one of the full build).
        let quiet = try onekube.docker(["image", "build", "-q", "-f", context + "/Dockerfile.multi", "--build-arg", "GREETING=hi", context])
        #expect(quiet.status == 0 && quiet.stdout == "\(image["Id"] as? String ?? "?")\n", "\(quiet) \(image["Id"] ?? "")")
        try Self.expectNothingLeft(onekube, .builtIn)
    }

    @Test func saveThenLoadIntoACleanDataDirectory() throws {
        let scratch = try TemporaryDirectory("onekube-build")
        let context = try Self.offlineKubia(in: scratch)
        let archive = scratch.path + "/kubia.tar"
        do {
            let builder = try OnekubeInstance()
            #expect(try Self.build(builder, .builtIn, ["-t", "kubia", "."], in: context).status == 0)
            let save = try builder.docker(["save", "-o", archive, "kubia"])
            #expect(save.status == 0 && save.stdout.isEmpty, "\(save)")
            try builder.stop()
        }
        let listing = try Run.checked("tar", ["tf", archive]).stdout
        #expect(listing.contains("manifest.json") && listing.contains("repositories") && listing.contains("/layer.tar"), "\(listing)")

        let clean = try OnekubeInstance()
        let load = try clean.realDocker(["load", "-i", archive])
        #expect(load.status == 0, "\(load)\n\(clean.daemonLog)")
        #expect(load.stdout == "Loaded image: kubia:latest\n", "\(load)")
        let port = try freePort()
        let run = try clean.docker(["run", "-d", "-p", "127.0.0.1:\(port):8080", "kubia"])
        #expect(run.status == 0, "\(run)")
        let shortID = String(run.stdout.prefix(12))
        try waitUntil("the loaded kubia to answer on 127.0.0.1:\(port)") {
            (try? Run.program("curl", ["-s", "--max-time", "2", "127.0.0.1:\(port)"]))?.stdout == "You've hit \(shortID)\n"
        }
        // httpd ignores SIGTERM: removed now, it does not hold up the daemon's stop for 10 s.
        #expect(try clean.docker(["rm", "-f", shortID]).status == 0)
    }

    @Test func podRunsTheLocallyBuiltImageWithoutARegistry() throws {
        let scratch = try TemporaryDirectory("onekube-build")
        let context = try Self.offlineKubia(in: scratch)
        let onekube = try OnekubeInstance()
        #expect(try Self.build(onekube, .real, ["-t", "kubia", "."], in: context).status == 0)
        let created = try onekube.kubectl(["run", "kubia", "--image=kubia", "--image-pull-policy=IfNotPresent", "--port=8080"])
        #expect(created.stdout == "pod/kubia created\n", "\(created)")
        try waitUntil(timeout: 60, "the pod to run") {
            try onekube.kubectl(["get", "pod", "kubia", "-o", "jsonpath={.status.phase}"]).stdout == "Running"
        }
        let ip = try onekube.kubectl(["get", "pod", "kubia", "-o", "jsonpath={.status.podIP}"]).stdout
        try waitUntil("the pod to answer on \(ip):8080") {
            (try? Run.program("curl", ["-s", "--max-time", "2", "\(ip):8080"]))?.stdout == "You've hit kubia\n"
        }
        let events = try onekube.kubectl(["get", "events", "--field-selector", "involvedObject.name=kubia"]).stdout
        #expect(events.contains("already present on machine"), "\(events)")
    }

    @Test(arguments: DockerClientKind.allCases)
    func badInputIsReportedAndLeavesNothing(client: DockerClientKind) throws {
        let scratch = try TemporaryDirectory("onekube-build")
        let context = try Self.offlineKubia(in: scratch)
        let onekube = try OnekubeInstance()
        #expect(try Self.build(onekube, client, ["-t", "kubia", "."], in: context).status == 0)
        let imagesBefore = try onekube.docker(client, ["images", "-q"]).stdout

        try Self.write("FROM kubia\nRUN true\nFRM kubia\n", to: context + "/Dockerfile.syntax")
        let syntax = try Self.build(onekube, client, ["-f", "Dockerfile.syntax", "."], in: context)
        #expect(syntax.status == 1, "\(syntax)")
        #expect(syntax.stderr.contains("Dockerfile parse error line 3: unknown instruction: FRM"), "\(syntax)")

        try Self.write("FROM kubia\nRUN echo about to fail; /bin/sh -c 'echo on stderr >&2'; false\n", to: context + "/Dockerfile.fail")
        let failed = try Self.build(onekube, client, ["-f", "Dockerfile.fail", "-t", "broken", "."], in: context)
        #expect(failed.status == 1, "\(failed)")
        #expect(failed.stdout.contains("about to fail\n"), "\(failed)")
        #expect(failed.stdout.contains("on stderr"), "\(failed)")
        #expect(failed.stderr.contains("The command '/bin/sh -c echo about to fail; /bin/sh -c 'echo on stderr >&2'; false' returned a non-zero code: 1"), "\(failed)")

        try Self.write("FROM kubia\nRUN exit 3\n", to: context + "/Dockerfile.exit3")
        let exit3 = try Self.build(onekube, client, ["-f", "Dockerfile.exit3", "."], in: context)
        #expect(exit3.status == 3, "the CLI exits with errorDetail.code: \(exit3)")
        #expect(exit3.stderr.contains("The command '/bin/sh -c exit 3' returned a non-zero code: 3"), "\(exit3)")

        try Self.write("secret\n", to: scratch.path + "/secret")
        try Self.write("FROM kubia\nCOPY ../secret /secret\n", to: context + "/Dockerfile.outside")
        let outside = try Self.build(onekube, client, ["-f", "Dockerfile.outside", "."], in: context)
        #expect(outside.status == 1, "\(outside)")
        #expect(outside.stderr.contains("COPY failed: forbidden path outside the build context: ../secret ()"), "\(outside)")

        try Self.write("FROM kubia\nCOPY missing.js /app/\n", to: context + "/Dockerfile.missing")
        let missing = try Self.build(onekube, client, ["-f", "Dockerfile.missing", "."], in: context)
        #expect(missing.status == 1, "\(missing)")
        #expect(missing.stderr.contains("COPY failed: file not found in build context or excluded by .dockerignore: stat missing.js: file does not exist"), "\(missing)")

        #expect(try onekube.docker(client, ["images", "-q"]).stdout == imagesBefore, "no half-made image")
        #expect(try onekube.docker(client, ["images", "broken"]).stdout.split(separator: "\n").count == 1)
        try Self.expectNothingLeft(onekube, client)
    }

    @Test func addUnpacksArchivesChownsAndDeletionsBecomeWhiteouts() throws {
        let scratch = try TemporaryDirectory("onekube-build")
        let context = try Self.offlineKubia(in: scratch)
        let payload = try scratch.sub("payload")
        try FileManager.default.createDirectory(atPath: payload + "/a", withIntermediateDirectories: true)
        try Self.write("gone\n", to: payload + "/a/b.txt")
        try Self.write("kept\n", to: payload + "/a/c.txt")
        try Run.checked("tar", ["czf", context + "/files.tar.gz", "-C", payload, "a"])
        try Self.write("""
            FROM scratch
            COPY busybox /bin/busybox
            ADD files.tar.gz /data/
            COPY --chown=1000:2000 app.sh /home/app.sh
            RUN ["/bin/busybox", "rm", "/data/a/b.txt"]
            CMD ["/bin/busybox", "sh", "-c", "/bin/busybox stat -c '%u:%g %n' /home/app.sh; /bin/busybox ls /data/a; /bin/busybox cat /data/a/c.txt"]
            """, to: context + "/Dockerfile.add")
        let onekube = try OnekubeInstance()
        let built = try Self.build(onekube, .real, ["-f", "Dockerfile.add", "-t", "added", "."], in: context)
        #expect(built.status == 0, "\(built)\n\(onekube.daemonLog)")
        let run = try onekube.docker(["run", "--rm", "added"])
        #expect(run.stdout == "1000:2000 /home/app.sh\nc.txt\nkept\n", "\(run)")

        // The RUN's deletion is an OCI whiteout in its layer.
        let archive = scratch.path + "/added.tar"
        #expect(try onekube.docker(["save", "-o", archive, "added"]).status == 0)
        let manifest = try Run.checked("tar", ["xOf", archive, "manifest.json"]).stdout
        let layers = try #require(((try json(manifest) as? [[String: Any]])?.first?["Layers"]) as? [String], "\(manifest)")
        #expect(layers.count == 4, "\(manifest)")
        let runLayer = try Run.checked("sh", ["-c", "tar xOf \"$0\" \"$1\" | tar t", archive, layers[3]]).stdout
        #expect(runLayer.split(separator: "\n").contains("data/a/.wh.b.txt"), "\(runLayer)")
    }

    @Test func loadsArchivesOtherToolsWrote() throws {
        let scratch = try TemporaryDirectory("onekube-build")
        let image = try TestImage.busybox(in: scratch)
        let dockerArchive = scratch.path + "/skopeo-docker.tar"
        try Run.checked("skopeo", ["copy", "--quiet", "oci:\(image.layoutDirectory):latest", "docker-archive:\(dockerArchive):busybox:1.36"])
        let ociArchive = scratch.path + "/layout.tar"
        try Run.checked("tar", ["cf", ociArchive, "-C", image.layoutDirectory, "."])

        let onekube = try OnekubeInstance()
        let fromDocker = try onekube.docker(["load", "-i", dockerArchive])
        #expect(fromDocker.status == 0, "\(fromDocker)\n\(onekube.daemonLog)")
        #expect(fromDocker.stdout == "Loaded image: busybox:1.36\n", "\(fromDocker)")
        #expect(try onekube.docker(["run", "--rm", "busybox:1.36", "echo", "from a docker-archive"]).stdout == "from a docker-archive\n")

        let fromLayout = try onekube.realDocker(["load", "-i", ociArchive])
        #expect(fromLayout.status == 0, "\(fromLayout)")
        #expect(fromLayout.stdout == "Loaded image ID: \(image.configDigest)\n", "\(fromLayout)")
        let run = try onekube.docker(["run", "--rm", String(image.configDigest.dropFirst(7).prefix(12)), "echo", "from an OCI layout"])
        #expect(run.stdout == "from an OCI layout\n", "\(run)")
    }

    /// `docker load` of an archive larger than the daemon could reasonably hold: the body goes to
    /// a file as it arrives, so the daemon's peak memory barely moves; the file is gone once the
    /// answer is, and an upload cut off midway leaves none either.
    @Test func aLargeLoadIsSpooledNotHeld() throws {
        let scratch = try TemporaryDirectory("onekube-build")
        let root = try scratch.sub("big-root")
        try Run.checked("sh", ["-c", "head -c \(160 << 20) /dev/urandom > \"$0\"/big", root])
        let layout = try scratch.sub("big-layout")
        _ = try OCILayoutBuilder.build(layout: layout, layers: [LayerSource(directory: root, compression: .none)], cmd: ["/big"])
        let archive = scratch.path + "/big.tar"
        try Run.checked("tar", ["cf", archive, "-C", layout, "."])

        let onekube = try OnekubeInstance()
        let pid = try #require(onekube.pid)
        func peakKiB() throws -> Int {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        let uploads = onekube.dataDirectory + "/uploads"
        let before = try peakKiB()
        let loaded = try onekube.realDocker(["load", "-i", archive])
        #expect(loaded.status == 0 && loaded.stdout.hasPrefix("Loaded image ID: sha256:"), "\(loaded)\n\(onekube.daemonLog.suffix(2000))")
        let after = try peakKiB()
        #expect(after - before < 64 << 10, "a 160 MiB upload raised the daemon's peak memory from \(before) KiB to \(after) KiB")
        #expect(try FileManager.default.contentsOfDirectory(atPath: uploads).isEmpty)

        // Cut off after a few megabytes: the partial body goes with the connection.
        let cut = try Run.program("timeout", ["2", "curl", "-s", "--unix-socket", onekube.socketPath, "--limit-rate", "2M",
                                              "-X", "POST", "-H", "Content-Type: application/x-tar",
                                              "--data-binary", "@" + archive, "http://docker/v1.47/images/load"])
        #expect(cut.status == 124, "\(cut)")
        try waitUntil("the partial upload removed") { try FileManager.default.contentsOfDirectory(atPath: uploads).isEmpty }
    }

    @Test func aDaemonKilledMidBuildLeavesNothingOnceRestarted() throws {
        let scratch = try TemporaryDirectory("onekube-build")
        let context = try Self.offlineKubia(in: scratch)
        let onekube = try OnekubeInstance()
        #expect(try Self.build(onekube, .builtIn, ["-t", "kubia", "."], in: context).status == 0)
        try Self.write("FROM kubia\nRUN echo started; sleep 60\n", to: context + "/Dockerfile.slow")
        let (argv, environment) = onekube.dockerCommand(.builtIn)
        let slow = try BackgroundProcess(argv[0], Array(argv.dropFirst()) + ["build", "-f", context + "/Dockerfile.slow", context],
                                         logPath: scratch.path + "/slow-build.log", environment: environment)
        try waitUntil("the RUN to start") { slow.log.contains("started") }
        let pid = try #require(onekube.pid)
        kill(pid, SIGKILL)
        try waitUntil("the killed daemon to be gone") { (try onekube.onekube(["status"])).status == 7 }
        slow.stop()

        try onekube.start()
        #expect(try Self.build(onekube, .builtIn, ["-t", "kubia", "."], in: context).status == 0)
        try Self.expectNothingLeft(onekube, .builtIn)
    }

    @Test(arguments: DockerClientKind.allCases)
    func fromPullsTheBaseImageAndRunUsesItsShell(client: DockerClientKind) throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let scratch = try TemporaryDirectory("onekube-build")
        let context = try scratch.sub("context")
        try Self.write("""
            FROM busybox
            ENV GREETING=hello
            RUN echo "$GREETING from $(cat /etc/hostname | wc -c) bytes of hostname" > /greeting && rm -rf /tmp
            CMD ["cat", "/greeting"]
            """, to: context + "/Dockerfile")
        let built = try Self.build(onekube, client, ["-t", "greeter", "."], in: context)
        #expect(built.status == 0, "\(built)\n\(onekube.daemonLog)")
        #expect(built.stdout.contains("Step 1/4 : FROM busybox\n"), "\(built)")
        #expect(built.stdout.contains("Status: Downloaded newer image for busybox:latest"), "\(built)")
        let run = try onekube.docker(client, ["run", "--rm", "greeter"])
        #expect(run.stdout == "hello from 13 bytes of hostname\n", "\(run)")
        // The RUN's rm of a directory of the base image is a whiteout in its layer.
        #expect(try onekube.docker(client, ["run", "--rm", "greeter", "ls", "/tmp"]).status != 0)
        #expect(try onekube.docker(client, ["run", "--rm", "busybox", "ls", "-d", "/tmp"]).status == 0)

        // Pushed, its manifest labels the pulled OCI layer and its own alike.
        let target = "\(images.registry.host)/luksa/greeter"
        #expect(try onekube.docker(client, ["tag", "greeter", target]).status == 0)
        #expect(try onekube.docker(client, ["push", target]).status == 0)
        let raw = try Run.checked("skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(target):latest"]).stdout
        let manifest = try #require(try json(raw) as? [String: Any], "\(raw)")
        #expect(manifest["mediaType"] as? String == "application/vnd.docker.distribution.manifest.v2+json", "\(raw)")
        let types = Set(((manifest["layers"] as? [[String: Any]]) ?? []).compactMap { $0["mediaType"] as? String })
        #expect(types == ["application/vnd.docker.image.rootfs.diff.tar.gzip"], "\(raw)")
    }

    @Test func addFetchesAURLAndCachesItByContent() throws {
        let scratch = try TemporaryDirectory("onekube-build")
        let context = try Self.offlineKubia(in: scratch)
        let served = try scratch.sub("served")
        try Self.write("first\n", to: served + "/hello.txt")
        let port = try freePort()
        let server = try BackgroundProcess("python3", ["-m", "http.server", "--bind", "127.0.0.1", "--directory", served, String(port)],
                                           logPath: scratch.path + "/http.log")
        defer { server.stop() }
        try waitUntil("the HTTP server on 127.0.0.1:\(port)") {
            (try? Run.program("curl", ["-sf", "--max-time", "1", "127.0.0.1:\(port)/hello.txt"]))?.status == 0
        }
        try Self.write("""
            FROM scratch
            COPY busybox /bin/busybox
            ADD http://127.0.0.1:\(port)/hello.txt /data/
            CMD ["/bin/busybox", "sh", "-c", "/bin/busybox stat -c '%a' /data/hello.txt; /bin/busybox cat /data/hello.txt"]
            """, to: context + "/Dockerfile.url")
        let onekube = try OnekubeInstance()
        let first = try Self.build(onekube, .builtIn, ["-f", "Dockerfile.url", "-t", "fetched", "."], in: context)
        #expect(first.status == 0, "\(first)\n\(onekube.daemonLog)")
        #expect(try onekube.docker(["run", "--rm", "fetched"]).stdout == "600\nfirst\n")
        #expect(Self.cachedSteps(try Self.build(onekube, .builtIn, ["-f", "Dockerfile.url", "-t", "fetched", "."], in: context).stdout) == [2, 3, 4])

        // A changed file at the URL is a changed ADD.
        try Self.write("second\n", to: served + "/hello.txt")
        let changed = try Self.build(onekube, .builtIn, ["-f", "Dockerfile.url", "-t", "fetched", "."], in: context)
        #expect(Self.cachedSteps(changed.stdout) == [2], "\(changed)")
        #expect(try onekube.docker(["run", "--rm", "fetched"]).stdout == "600\nsecond\n")

        try Self.write("FROM scratch\nADD http://127.0.0.1:\(port)/missing.txt /\n", to: context + "/Dockerfile.missing-url")
        let missing = try Self.build(onekube, .builtIn, ["-f", "Dockerfile.missing-url", "."], in: context)
        #expect(missing.status == 1 && missing.stderr.contains("ADD failed: failed to GET http://127.0.0.1:\(port)/missing.txt with status 404"), "\(missing)")
    }

    @Test(arguments: DockerClientKind.allCases)
    func builderPruneFreesTheCacheAndItsLayers(client: DockerClientKind) throws {
        let scratch = try TemporaryDirectory("onekube-build")
        let context = try Self.offlineKubia(in: scratch)
        let onekube = try OnekubeInstance()
        #expect(try Self.build(onekube, client, ["-t", "kubia", "."], in: context).status == 0)
        #expect(try onekube.docker(client, ["rmi", "kubia"]).status == 0)
        let layers = onekube.dataDirectory + "/layers"
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: layers)).isEmpty, "the cache keeps the layers of the removed image")

        let prune = try onekube.docker(client, ["builder", "prune", "-f"])
        #expect(prune.status == 0, "\(prune)")
        #expect(prune.stdout.hasPrefix("Deleted build cache objects:\nsha256:"), "\(prune)")
        #expect(prune.stdout.contains("\n\nTotal reclaimed space: ") && prune.stdout.hasSuffix("MB\n"), "\(prune)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: layers).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: onekube.dataDirectory + "/blobs/sha256").isEmpty)
        let rebuilt = try Self.build(onekube, client, ["-t", "kubia", "."], in: context)
        #expect(rebuilt.status == 0 && Self.cachedSteps(rebuilt.stdout).isEmpty, "\(rebuilt)")
    }

    /// `docker build -`: stdin is a Dockerfile (a context of nothing else), a tar context or a
    /// compressed one; `-f -` reads the Dockerfile from stdin beside a context directory; both at
    /// once is refused. The same with either client.
    @Test(arguments: DockerClientKind.allCases)
    func buildFromStdin(client: DockerClientKind) throws {
        let scratch = try TemporaryDirectory("onekube-build")
        let context = try Self.offlineKubia(in: scratch)
        let onekube = try OnekubeInstance()
        let (argv, environment) = onekube.dockerCommand(client)
        func build(_ arguments: [String], stdin file: String) throws -> ProcessResult {
            var env = environment
            env["INPUT"] = file
            return try Run.program("sh", ["-c", "exec \"$@\" < \"$INPUT\"", "sh"] + argv + ["build"] + arguments, environment: env, directory: context)
        }
        let dockerfile = scratch.path + "/Dockerfile.stdin"
        try Self.write("FROM scratch\nLABEL made=stdin\n", to: dockerfile)
        let alone = try build(["-t", "bare", "-"], stdin: dockerfile)
        #expect(alone.status == 0 && alone.stdout.contains("Successfully tagged bare:latest"), "\(alone)")
        #expect(try onekube.docker(["inspect", "-f", "{{json .Config.Labels}}", "bare"]).stdout == "{\"made\":\"stdin\"}\n")

        let tarball = scratch.path + "/context.tar", gzipped = scratch.path + "/context.tar.gz"
        try Run.checked("tar", ["cf", tarball, "-C", context, "."])
        try Run.checked("sh", ["-c", "gzip -c \"$0\" > \"$1\"", tarball, gzipped])
        for (tag, file) in [("fromtar", tarball), ("fromgzip", gzipped)] {
            let built = try build(["-t", tag, "-"], stdin: file)
            #expect(built.status == 0 && built.stdout.contains("Step 6/6 : ENTRYPOINT"), "\(tag): \(built)")
            let listed = try onekube.docker(["run", "--rm", "--entrypoint", "ls", tag, "/app.sh"])
            #expect(listed.stdout == "/app.sh\n", "\(tag): \(listed)")
        }

        try Self.write("FROM scratch\nCOPY busybox /bin/busybox\nLABEL dockerfile=stdin\n", to: dockerfile)
        let beside = try build(["-t", "beside", "-f", "-", "."], stdin: dockerfile)
        #expect(beside.status == 0, "\(beside)")
        #expect(try onekube.docker(["inspect", "-f", "{{json .Config.Labels}}", "beside"]).stdout == "{\"dockerfile\":\"stdin\"}\n")

        let both = try build(["-f", "-", "-"], stdin: dockerfile)
        #expect(both.status != 0 && both.stderr.contains("invalid argument: can't use stdin for both build context and dockerfile"), "\(both)")
    }

    /// ONBUILD: the triggers are kept in the image, run when a build starts FROM it (said so in
    /// the output), and not passed on; the triggers moby's parser refuses are refused first.
    @Test(arguments: DockerClientKind.allCases)
    func onbuildTriggersRunInTheChildBuild(client: DockerClientKind) throws {
        let scratch = try TemporaryDirectory("onekube-build")
        let context = try scratch.sub("base")
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: context + "/busybox")
        try Self.write("""
            FROM scratch
            COPY busybox /bin/busybox
            ONBUILD RUN ["/bin/busybox", "sh", "-c", "echo triggered > /triggered"]
            ONBUILD LABEL via=onbuild

            """, to: context + "/Dockerfile")
        let onekube = try OnekubeInstance()
        #expect(try Self.build(onekube, client, ["-t", "base", "."], in: context).status == 0)
        let triggers = try onekube.docker(["inspect", "-f", "{{json .Config.OnBuild}}", "base"]).stdout
        #expect(triggers == #"["RUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo triggered > /triggered\"]","LABEL via=onbuild"]"# + "\n", "\(triggers)")

        let child = try scratch.sub("child")
        try Self.write("FROM base\nCMD [\"/bin/busybox\", \"cat\", \"/triggered\"]\n", to: child + "/Dockerfile")
        let built = try Self.build(onekube, client, ["-t", "child", "."], in: child)
        let lines = built.stdout.split(separator: "\n").map(String.init)
        #expect(built.status == 0 && lines.contains("# Executing 2 build triggers"), "\(built)")
        #expect(try onekube.docker(["run", "--rm", "child"]).stdout == "triggered\n")
        #expect(try onekube.docker(["inspect", "-f", "{{json .Config.OnBuild}} {{json .Config.Labels}}", "child"]).stdout == "null {\"via\":\"onbuild\"}\n")

        for (dockerfile, message) in [("FROM scratch\nONBUILD ONBUILD RUN true\n", "Dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
                                      ("FROM scratch\nONBUILD FROM busybox\n", "Dockerfile parse error line 2: FROM isn't allowed as an ONBUILD trigger")] {
            try Self.write(dockerfile, to: child + "/Dockerfile")
            let refused = try Self.build(onekube, client, ["."], in: child)
            #expect(refused.status != 0 && refused.stderr.contains(message), "\(refused)")
        }
    }

    /// `docker history` of a built image: newest step first, the image's ID on it and
    /// `<missing>` below, each layer's size and 0B for steps without one; both clients print the
    /// same table (and the same error for an unknown image).
    @Test func historyListsTheBuildsSteps() throws {
        let scratch = try TemporaryDirectory("onekube-build")
        let context = try Self.offlineKubia(in: scratch)
        let onekube = try OnekubeInstance()
        let built = try Self.build(onekube, .builtIn, ["-t", "kubia", "."], in: context)
        #expect(built.status == 0, "\(built)")
        let id = try onekube.docker(["images", "-q", "kubia"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let quiet = try onekube.docker(["history", "-q", "kubia"])
        #expect(quiet.stdout == "\(id)\n<missing>\n<missing>\n<missing>\n<missing>\n", "\(quiet)")
        let raw = try onekube.docker(["history", "--no-trunc", "-H=false", "kubia"]).stdout.split(separator: "\n").map(String.init)
        #expect(raw.count == 6, "\(raw)")
        if raw.count == 6 {
            #expect(raw[0].hasPrefix("IMAGE "))
            #expect(raw[1].hasPrefix("sha256:\(id)") && raw[1].contains("ENTRYPOINT"), "\(raw[1])")
            #expect(raw[1].contains(" 0 "), "no layer, size 0: \(raw[1])")
            let busyboxSize = try FileManager.default.attributesOfItem(atPath: "/bin/busybox")[.size] as? Int ?? 0
            #expect(raw[5].contains("COPY") && raw[5].contains(" \(busyboxSize) "), "the COPY layer holds busybox: \(raw[5])")
        }
        for arguments in [["history", "kubia"], ["history", "--no-trunc", "kubia"], ["history", "-H=false", "kubia"],
                          ["image", "history", "-q", "kubia"], ["history", "nosuch"]] {
            var ours = try onekube.docker(.builtIn, arguments), theirs = try onekube.docker(.real, arguments)
            // An age may tick between the two: once more.
            if ours.stdout != theirs.stdout {
                ours = try onekube.docker(.builtIn, arguments)
                theirs = try onekube.docker(.real, arguments)
            }
            #expect(ours.stdout == theirs.stdout && ours.stderr == theirs.stderr && ours.status == theirs.status,
                    "docker \(arguments.joined(separator: " ")):\nonekube docker: \(ours)\ndocker CLI: \(theirs)")
        }
    }
}
