import Foundation
import Glibc
import Platform
import TestSupport
import Testing

@Suite("Containers: terminals, stdin, errors, limits, isolation, networking")
struct ContainerBehaviourTests {
    @Test(arguments: DockerClientKind.allCases)
    func interactiveTerminal(client: DockerClientKind) throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        #expect(try onekube.docker(["pull", "busybox"]).status == 0)
        let (argv, environment) = onekube.dockerCommand(client)
        let session = try runOnTerminal(argv + ["run", "-it", "--rm", "busybox", "sh"], environment: environment, script: [
            ("# ", "echo hi-from-tty; stty size; tty\r"),
            ("/dev/pts/", "exit 5\r"),
        ])
        #expect(session.status == 5, "\(session.output)\n\(onekube.daemonLog)")
        #expect(session.output.contains("hi-from-tty\r\n30 100\r\n/dev/pts/0\r\n"), "\(session.output)")
        #expect(try onekube.docker(client, ["ps", "-a", "-q"]).stdout == "", "--rm removed it")

        // exec -it into a running container.
        #expect(try onekube.docker(client, ["run", "-d", "--name", "box", "busybox", "sleep", "1000"]).status == 0)
        let exec = try runOnTerminal(argv + ["exec", "-it", "box", "sh"], environment: environment, rows: 40, columns: 120, script: [
            ("# ", "stty size; ps | wc -l\r"),
            ("40 120", "exit 4\r"),
        ])
        #expect(exec.status == 4, "\(exec.output)")
        #expect(exec.output.contains("40 120\r\n"), "\(exec.output)")
        #expect(try onekube.docker(client, ["rm", "-f", "box"]).status == 0)
    }

    @Test(arguments: DockerClientKind.allCases)
    func standardInputIsPiped(client: DockerClientKind) throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let run = try onekube.docker(client, ["run", "-i", "--rm", "busybox", "cat"], stdin: "line1\nline2\n")
        #expect(run.status == 0, "\(run)\n\(onekube.daemonLog)")
        #expect(run.stdout == "line1\nline2\n")
        #expect(try onekube.docker(client, ["run", "-d", "--name", "box", "busybox", "sleep", "1000"]).status == 0)
        let exec = try onekube.docker(client, ["exec", "-i", "box", "wc", "-l"], stdin: "a\nb\nc\n")
        #expect(exec.stdout.trimmingCharacters(in: .whitespaces) == "3\n", "\(exec)")
    }

    @Test(arguments: DockerClientKind.allCases)
    func badInputFailsAsDocker(client: DockerClientKind) throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        #expect(try onekube.docker(client, ["pull", "busybox"]).status == 0)

        let missing = try onekube.docker(client, ["run", "busybox", "nosuchcmd"])
        #expect(missing.status == 127, "\(missing)")
        #expect(missing.stderr.hasPrefix("docker: Error response from daemon: failed to create task for container: "), "\(missing)")
        #expect(missing.stderr.contains("exec: \"nosuchcmd\": executable file not found in $PATH"), "\(missing)")
        #expect(missing.stderr.hasSuffix("\n\nRun 'docker run --help' for more information\n"), "\(missing)")
        #expect(try onekube.docker(client, ["run", "--rm", "busybox", "/etc"]).status == 126)
        #expect(try onekube.docker(client, ["run", "--rm", "busybox", "/etc/passwd"]).status == 126)

        let image = try onekube.docker(client, ["run", "nosuchuser/nosuchimage"])
        #expect(image.status == 125, "\(image)")
        #expect(image.stderr.hasPrefix("Unable to find image 'nosuchuser/nosuchimage:latest' locally\n"), "\(image)")

        let flag = try onekube.docker(client, ["run", "--no-such-flag", "busybox"])
        #expect(flag.status == 125, "\(flag)")
        #expect(flag.stderr.hasPrefix("unknown flag: --no-such-flag\n"), "\(flag)")

        #expect(try onekube.docker(client, ["run", "--name", "twice", "busybox", "true"]).status == 0)
        let holder = try onekube.docker(client, ["inspect", "-f", "{{.Id}}", "twice"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let twice = try onekube.docker(client, ["run", "--name", "twice", "busybox", "true"])
        #expect(twice.status == 125)
        #expect(twice.stderr == "docker: Error response from daemon: Conflict. The container name \"/twice\" is already in use by container \"\(holder)\". You have to remove (or rename) that container to be able to reuse that name.\n\nRun 'docker run --help' for more information\n", "\(twice)")

        let noSuch = try onekube.docker(client, ["logs", "nope"])
        #expect(noSuch.status == 1)
        #expect(noSuch.stderr == "Error response from daemon: No such container: nope\n")
        let kill = try onekube.docker(client, ["kill", "twice"])
        #expect(kill.status == 1)
        #expect(kill.stderr.contains("is not running"), "\(kill)")
        let exec = try onekube.docker(client, ["exec", "twice", "true"])
        #expect(exec.status == 1)
        #expect(exec.stderr == "Error response from daemon: container \(holder) is not running\n", "\(exec)")

        #expect(try onekube.docker(client, ["run", "-d", "--name", "sleeper", "busybox", "sleep", "1000"]).status == 0)
        let nosuch = try onekube.docker(client, ["exec", "sleeper", "nosuchcmd"])
        #expect(nosuch.status == 127, "\(nosuch)")
        #expect(nosuch.stdout.contains("exec: \"nosuchcmd\": executable file not found in $PATH"), "\(nosuch)")
        #expect(try onekube.docker(client, ["kill", "sleeper"]).stdout == "sleeper\n")
        #expect(try onekube.docker(client, ["wait", "sleeper"]).stdout == "137\n")

        // An image containers use keeps its layers.
        let rmi = try onekube.docker(client, ["rmi", "busybox"])
        #expect(rmi.status == 1, "\(rmi)")
        #expect(rmi.stderr.hasPrefix("Error response from daemon: conflict: unable to remove repository reference \"busybox\" (must force) - container "), "\(rmi)")
    }

    @Test(arguments: DockerClientKind.allCases)
    func hostPathsAreBoundIn(client: DockerClientKind) throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let shared = try TemporaryDirectory("onekube-volume")
        try "from the host\n".write(toFile: shared.path + "/in.txt", atomically: true, encoding: .utf8)
        let run = try onekube.docker(client, ["run", "--rm", "-v", "\(shared.path):/data", "busybox", "sh", "-c",
                                              "cat /data/in.txt; echo from the container > /data/out.txt"])
        #expect(run.status == 0, "\(run)\n\(onekube.daemonLog)")
        #expect(run.stdout == "from the host\n")
        #expect(try String(contentsOfFile: shared.path + "/out.txt", encoding: .utf8) == "from the container\n")
        let readOnly = try onekube.docker(client, ["run", "--rm", "-v", "\(shared.path):/data:ro", "busybox", "sh", "-c",
                                                   "echo x > /data/out.txt"])
        #expect(readOnly.status == 1, "\(readOnly)")
        #expect(readOnly.stderr.contains("Read-only file system"), "\(readOnly)")
        #expect(try onekube.docker(client, ["run", "--name", "mounter", "-v", "\(shared.path):/data:ro", "busybox", "true"]).status == 0)
        #expect(try onekube.docker(client, ["inspect", "-f", "{{json .Mounts}}", "mounter"]).stdout
            == #"[{"Type":"bind","Source":"\#(shared.path)","Destination":"/data","Mode":"ro","RW":false,"Propagation":"rprivate"}]"# + "\n")
        let named = try onekube.docker(client, ["run", "--rm", "-v", "named:/data", "busybox", "true"])
        #expect(named.status == 125, "\(named)")
    }

    /// `docker container prune`: created and exited containers go, with their writable layers'
    /// bytes reported; running ones and pods' stay; without -f it asks, and no answer cancels.
    @Test(arguments: DockerClientKind.allCases)
    func containerPruneRemovesWhatIsNotRunning(client: DockerClientKind) throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        func id(_ name: String) throws -> String {
            try onekube.docker(["inspect", "-f", "{{.Id}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try onekube.docker(["run", "--name", "done", "busybox", "true"]).status == 0)
        #expect(try onekube.docker(["create", "--name", "fresh", "busybox"]).status == 0)
        #expect(try onekube.docker(["run", "--name", "written", "busybox", "sh", "-c", "head -c 100000 /dev/zero > /data"]).status == 0)
        #expect(try onekube.docker(["run", "-d", "--name", "alive", "busybox", "sleep", "300"]).status == 0)
        #expect(try onekube.docker(["run", "--name", "labelled", "--label", "tier=scratch", "busybox", "true"]).status == 0)
        #expect(try onekube.kubectl(["run", "finished", "--image=busybox", "--restart=Never", "--", "true"]).status == 0)
        try waitUntil(timeout: 60, "the pod finished") {
            try onekube.kubectl(["get", "pod", "finished", "-o", "jsonpath={.status.phase}"]).stdout == "Succeeded"
        }

        // No answer (stdin at its end): nothing is removed, and the CLI says no more.
        let asked = try onekube.docker(client, ["container", "prune"], stdin: "")
        #expect(asked.status == 0 && asked.stdout == "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "
                && asked.stderr.isEmpty, "\(asked)")
        let labelled = try id("labelled")
        let byLabel = try onekube.docker(client, ["container", "prune", "-f", "--filter", "label=tier=scratch"])
        #expect(byLabel.stdout == "Deleted Containers:\n\(labelled)\n\nTotal reclaimed space: 0B\n", "\(byLabel)")

        let expected = Set([try id("done"), try id("fresh"), try id("written")])
        let pruned = try onekube.docker(client, ["container", "prune", "-f"])
        let lines = pruned.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(pruned.status == 0 && lines.first == "Deleted Containers:" && Set(lines.dropFirst().prefix(3)) == expected
                && Array(lines.suffix(3)) == ["", "Total reclaimed space: 100kB", ""], "\(pruned)")
        let left = try onekube.docker(["ps", "-a"]).stdout.split(separator: "\n").map(String.init)
        #expect(left.count == 3 && left.contains { $0.hasSuffix(" alive") } && left.contains { $0.contains(" k8s_finished_finished_") }, "\(left)")
        let again = try onekube.docker(client, ["container", "prune", "-f"])
        #expect(again.stdout == "Total reclaimed space: 0B\n", "\(again)")
    }

    /// `docker image prune`: the untagged images by default, every image no container uses with
    /// -a (its tags untagged first), reported as the CLI reports them.
    @Test(arguments: DockerClientKind.allCases)
    func imagePruneRemovesUnusedImages(client: DockerClientKind) throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        func build(_ dockerfile: String) throws {
            let result = try onekube.docker(["build", "-q", "-t", "x", "-"], stdin: dockerfile)
            #expect(result.status == 0, "\(result)")
        }
        try build("FROM scratch\nLABEL v=1\n")
        let first = try onekube.docker(["inspect", "-f", "{{.Id}}", "x"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try build("FROM scratch\nLABEL v=2\n")
        #expect(try onekube.docker(["pull", "-q", "luksa/kubia"]).status == 0)
        #expect(try onekube.docker(["run", "--name", "user", "busybox", "true"]).status == 0)

        let asked = try onekube.docker(client, ["image", "prune"], stdin: "")
        #expect(asked.status == 0 && asked.stdout == "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ", "\(asked)")
        let dangling = try onekube.docker(client, ["image", "prune", "-f"])
        #expect(dangling.stdout == "Deleted Images:\ndeleted: \(first)\n\nTotal reclaimed space: 0B\n", "\(dangling)")

        let unused = try onekube.docker(client, ["image", "prune", "-a", "-f"])
        let lines = unused.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(unused.status == 0 && lines.first == "Deleted Images:" && lines.contains("untagged: x:latest")
                && lines.contains("untagged: luksa/kubia:latest") && lines.contains { $0.hasPrefix("deleted: sha256:") }
                && lines.last == "" && lines.dropLast().last?.hasPrefix("Total reclaimed space: ") == true, "\(unused)")
        let listed = try onekube.docker(["images"]).stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ").first.map(String.init) ?? "" }
        #expect(listed == ["busybox"], "\(listed)")
        #expect(try onekube.docker(["run", "--rm", "busybox", "echo", "still here"]).stdout == "still here\n")
    }

    /// `docker system prune`: one question for containers, networks, images and the build cache,
    /// one report with a section for each that lost something.
    @Test(arguments: DockerClientKind.allCases)
    func systemPruneAsksOnceAndReportsTogether(client: DockerClientKind) throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        #expect(try onekube.docker(["run", "--name", "done", "busybox", "true"]).status == 0)
        let done = try onekube.docker(["inspect", "-f", "{{.Id}}", "done"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try onekube.docker(["build", "-q", "-t", "x", "-"], stdin: "FROM scratch\nLABEL v=1\n").status == 0)
        let first = try onekube.docker(["inspect", "-f", "{{.Id}}", "x"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try onekube.docker(["build", "-q", "-t", "x", "-"], stdin: "FROM scratch\nLABEL v=2\n").status == 0)

        let asked = try onekube.docker(client, ["system", "prune"], stdin: "n\n")
        let warning = "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n"
            + "  - all dangling images\n  - unused build cache\n\nAre you sure you want to continue? [y/N] "
        #expect(asked.status == 0 && asked.stdout == warning, "\(asked)")
        #expect(try onekube.docker(["inspect", "done"]).status == 0, "a no keeps everything")

        let pruned = try onekube.docker(client, ["system", "prune", "-f"])
        let sections = pruned.stdout.components(separatedBy: "\n\n")
        #expect(pruned.status == 0 && sections.count == 4, "\(pruned)")
        if sections.count == 4 {
            #expect(sections[0] == "Deleted Containers:\n\(done)")
            #expect(sections[1] == "Deleted Images:\ndeleted: \(first)")
            #expect(sections[2].hasPrefix("Deleted build cache objects:\nsha256:"))
            #expect(sections[3] == "Total reclaimed space: 0B\n")
        }
        #expect(try onekube.docker(client, ["system", "prune", "-f"]).stdout == "Total reclaimed space: 0B\n")
    }

    /// `docker rename`: the new name finds the container (running or not), the old one no longer
    /// does; a name in use, the same name and an invalid one are refused as docker refuses them.
    @Test(arguments: DockerClientKind.allCases)
    func renameGivesTheContainerItsNewName(client: DockerClientKind) throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        #expect(try onekube.docker(["run", "-d", "--name", "first", "busybox", "sleep", "300"]).status == 0)
        #expect(try onekube.docker(["create", "--name", "other", "busybox"]).status == 0)
        let id = try onekube.docker(["inspect", "-f", "{{.Id}}", "first"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let renamed = try onekube.docker(client, ["rename", "first", "second"])
        #expect(renamed.status == 0 && renamed.stdout.isEmpty && renamed.stderr.isEmpty, "\(renamed)")
        #expect(try onekube.docker(["inspect", "-f", "{{.Id}} {{.Name}} {{.State.Running}}", "second"]).stdout == "\(id) /second true\n")
        #expect(try onekube.docker(["inspect", "first"]).status != 0)

        let taken = try onekube.docker(client, ["rename", "second", "other"])
        let otherID = try onekube.docker(["inspect", "-f", "{{.Id}}", "other"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(taken.status == 1 && taken.stderr == """
            Error response from daemon: Conflict. The container name "/other" is already in use by container "\(otherID)". You have to remove (or rename) that container to be able to reuse that name.
            Error: failed to rename container named second

            """, "\(taken)")
        let same = try onekube.docker(client, ["rename", "second", "second"])
        #expect(same.status == 1 && same.stderr.hasPrefix("Error response from daemon: Renaming a container with the same name as its current name\n"), "\(same)")
        let missing = try onekube.docker(client, ["rename", "nosuch", "x"])
        #expect(missing.status == 1 && missing.stderr.hasPrefix("Error response from daemon: No such container: nosuch\n"), "\(missing)")
        // Docker's names have two characters at least.
        let invalid = try onekube.docker(client, ["rename", "second", "x"])
        #expect(invalid.status == 1 && invalid.stderr.hasPrefix("Error response from daemon: Invalid container name (x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n"), "\(invalid)")
    }

    /// `docker port`: what the real docker CLI prints from the same container, for every form.
    @Test func portListsThePublishedPortsAsTheCLIDoes() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        #expect(try onekube.docker(["run", "-d", "--name", "web", "-p", "8080", "-p", "127.0.0.1::9090", "luksa/kubia"]).status == 0)
        for arguments in [["port", "web"], ["port", "web", "8080"], ["port", "web", "9090/tcp"], ["port", "web", "7000"],
                          ["port", "web", "abc"], ["port", "nosuch"]] {
            let ours = try onekube.docker(.builtIn, arguments), theirs = try onekube.docker(.real, arguments)
            #expect(ours.stdout == theirs.stdout && ours.stderr == theirs.stderr && ours.status == theirs.status,
                    "docker \(arguments.joined(separator: " ")):\nonekube docker: \(ours)\ndocker CLI: \(theirs)")
        }
        let listed = try onekube.docker(["port", "web"]).stdout
        #expect(listed.contains("8080/tcp -> 0.0.0.0:") && listed.contains("9090/tcp -> 127.0.0.1:"), "\(listed)")
    }

    /// `docker run --env-file`: the file's variables (comments and blank lines skipped, a bare
    /// name taken from the client's environment or left out), then -e's; bad files refused as
    /// the CLI refuses them.
    @Test func envFileVariablesReachTheContainer() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let scratch = try TemporaryDirectory("onekube-envfile")
        let file = scratch.path + "/app.env"
        try "# settings\nGREETING=hello world\n\n  SPACED=kept=as is\nFROM_CLIENT\nUNSET_HERE\nORDER=file\n".write(toFile: file, atomically: true, encoding: .utf8)
        for client in DockerClientKind.allCases {
            let (argv, environment) = onekube.dockerCommand(client)
            var env = environment
            env["FROM_CLIENT"] = "from the client"
            let run = try Run.program(argv[0], Array(argv.dropFirst()) + ["run", "--rm", "--env-file", file, "-e", "ORDER=flag", "busybox", "sh", "-c",
                                      "echo \"$GREETING|$SPACED|$FROM_CLIENT|${UNSET_HERE-unset}|$ORDER\""], environment: env)
            #expect(run.stdout == "hello world|kept=as is|from the client|unset|flag\n", "\(client): \(run)")
        }
        let bad = scratch.path + "/bad.env"
        try "A B=1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        for arguments in [["run", "--rm", "--env-file", scratch.path + "/nosuch.env", "busybox", "true"], ["run", "--rm", "--env-file", bad, "busybox", "true"]] {
            let ours = try onekube.docker(.builtIn, arguments), theirs = try onekube.docker(.real, arguments)
            #expect(ours.stderr == theirs.stderr && ours.status == theirs.status, "\(arguments):\nonekube docker: \(ours)\ndocker CLI: \(theirs)")
        }
    }

    /// `docker run --add-host`: the names land in /etc/hosts before the container's own line
    /// (`host-gateway` as the bridge's address); bad values are refused as the CLI refuses them.
    @Test func addHostWritesTheContainersHostsFile() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        for client in DockerClientKind.allCases {
            let run = try onekube.docker(client, ["run", "--rm", "--add-host", "db:10.1.2.3", "--add-host", "six=[fd00::1]",
                                                  "--add-host", "gw:host-gateway", "busybox", "sh", "-c", "grep -v localhost /etc/hosts | grep -v ip6-"])
            let lines = run.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 4 && lines[0] == "10.1.2.3\tdb" && lines[1] == "fd00::1\tsix"
                    && lines[2].hasPrefix(onekube.podCIDR.split(separator: ".").prefix(3).joined(separator: ".") + ".1\tgw"), "\(client): \(run)")
        }
        // Bad flag values, here and in the other flags the docker mode checks, answered with
        // cobra's usage block for run and for create.
        let refused = ["nocolon", ":1.2.3.4", "db:not-an-ip"].map { ["run", "--rm", "--add-host", $0, "busybox", "true"] }
            + [["run", "--rm", "--memory", "bogus", "busybox", "true"], ["create", "--cpus", "x", "busybox"], ["create", "--add-host", "bad", "busybox"]]
        for arguments in refused {
            let ours = try onekube.docker(.builtIn, arguments), theirs = try onekube.docker(.real, arguments)
            #expect(ours.stderr == theirs.stderr && ours.status == theirs.status, "\(arguments):\nonekube docker: \(ours)\ndocker CLI: \(theirs)")
        }
    }

    @Test func publishedPortInUseFailsCleanly() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        #expect(try onekube.docker(["pull", "luksa/kubia"]).status == 0)
        let before = try HostFootprint.of(onekube)
        let port = try freePort()
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound == 0 && listen(listener, 1) == 0)
        let run = try onekube.docker(["run", "-d", "--name", "web", "-p", "\(port):8080", "luksa/kubia"])
        #expect(run.status == 125, "\(run)")
        #expect(run.stderr.contains("failed to bind host port for 0.0.0.0:\(port)"), "\(run)")
        #expect(run.stderr.contains("address already in use"), "\(run)")
        #expect(try onekube.docker(["ps", "-a"]).stdout.contains("Created"), "left as created, as docker does")
        try waitUntil("nothing half-created: \(before)") { try HostFootprint.of(onekube) == before }
    }

    @Test func memoryLimitKillsAndIsReportedAsOOM() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let run = try onekube.docker(["run", "--name", "hog", "-m", "16m", "busybox", "sh", "-c", "head -c 200m /dev/zero | tail"])
        #expect(run.status == 137, "\(run)\n\(onekube.daemonLog)")
        #expect(try onekube.docker(["inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "hog"]).stdout == "true 137\n")
        #expect(try onekube.realDocker(["inspect", "-f", "{{.State.OOMKilled}}", "hog"]).stdout == "true\n")
        let limited = try onekube.docker(["run", "--rm", "--pids-limit", "20", "--cpus", "0.5", "-m", "64m", "busybox", "sh", "-c",
                                          "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || true; echo ok"])
        #expect(limited.status == 0, "\(limited)")
        #expect(limited.stdout.hasSuffix("ok\n"))
    }

    @Test func containersAreIsolatedAndReachEachOther() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        #expect(try onekube.docker(["run", "-d", "--name", "web", "luksa/kubia"]).status == 0)
        let web = try onekube.docker(["inspect", "-f", "{{.NetworkSettings.IPAddress}} {{.Config.Hostname}}", "web"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").map(String.init)
        #expect(web.count == 2)
        let ip = web.first ?? ""
        try waitUntil("httpd in web") {
            (try onekube.docker(["run", "--rm", "busybox", "wget", "-qO-", "http://\(ip):8080/"])).stdout == "You've hit \(web.last ?? "")\n"
        }
        let probe = try onekube.docker(["run", "--rm", "busybox", "sh", "-c", """
            ps -o pid,comm | wc -l; id -u; cat /proc/1/cmdline | tr '\\0' ' '; echo
            mount -t tmpfs none /tmp 2>&1 || echo mount-refused
            cat /proc/kcore | wc -c; ls /sys/firmware | wc -l
            echo x > /proc/sys/kernel/hostname 2>&1 || echo sysctl-refused
            grep CapEff /proc/self/status; ls /var/lib/onekube 2>&1 | head -1
            """])
        #expect(probe.status == 0, "\(probe)")
        let lines = probe.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count >= 8, "\(probe)")
        // The header, sh, ps, and wc when ps sees it already: nothing of the host.
        #expect(["3", "4"].contains(lines[0].trimmingCharacters(in: .whitespaces)), "only sh, ps, wc: \(probe)")
        #expect(lines[1] == "0")
        #expect(lines.contains("mount-refused"), "\(probe)")
        #expect(lines.contains("0"), "/proc/kcore is masked: \(probe)")
        #expect(lines.contains("sysctl-refused"), "\(probe)")
        #expect(lines.contains("CapEff:\t00000000a80425fb"), "\(probe)")
        #expect(probe.stdout.contains("No such file or directory"), "the daemon's state is not visible: \(probe)")
    }
}
