import ContainerRuntime
@testable import DockerAPI
import Platform
import Testing

@Suite("Container create requests, JSON and stream framing")
struct ContainerRequestTests {
    typealias Defaults = ContainerCreateRequest.ImageDefaults

    static let kubia = Defaults(entrypoint: ["node", "app.js"], cmd: nil)
    static let busybox = Defaults(entrypoint: nil, cmd: ["sh"])
    static let both = Defaults(entrypoint: ["/entry.sh"], cmd: ["--serve"])

    @Test(arguments: [
        // (request entrypoint, request cmd, image) → argv
        (nil, nil, busybox, ["sh"]),
        (nil, ["echo", "hi"], busybox, ["echo", "hi"]),
        (nil, nil, kubia, ["node", "app.js"]),
        (nil, ["--debug"], kubia, ["node", "app.js", "--debug"]),
        (nil, nil, both, ["/entry.sh", "--serve"]),
        (["/bin/sh", "-c"], nil, both, ["/bin/sh", "-c"]),
        (["/bin/sh", "-c"], ["date"], both, ["/bin/sh", "-c", "date"]),
        ([""], ["echo", "x"], both, ["echo", "x"]),
        // An empty (not null) Entrypoint drops the image's but keeps its Cmd, as in moby.
        ([], nil, both, ["--serve"]),
        (nil, [], busybox, ["sh"]),
    ] as [([String]?, [String]?, Defaults, [String])])
    func entrypointAndCmdMergeAsMoby(entrypoint: [String]?, cmd: [String]?, image: Defaults, argv: [String]) {
        let (e, c) = ContainerCreateRequest.command(entrypoint: entrypoint, cmd: cmd, image: image)
        #expect((e ?? []) + (c ?? []) == argv)
    }

    @Test func environmentOverridesByName() {
        let merged = ContainerCreateRequest.mergeEnv(["PATH=/bin", "A=1"], ["A=2", "B=3", "PATH=/usr/bin"])
        #expect(merged == ["PATH=/usr/bin", "A=2", "B=3"])
    }

    @Test func portBindingsFromHostConfig() throws {
        let json = try OrderedJSON(parsing: Array("""
            {"8080/tcp":[{"HostIp":"","HostPort":"8080"},{"HostIp":"127.0.0.1","HostPort":""}],"53/udp":[{"HostIp":"","HostPort":"5353"}]}
            """.utf8))
        #expect(try ContainerCreateRequest.portBindings(json) == [
            PortBinding(hostIP: "", hostPort: 8080, containerPort: 8080),
            PortBinding(hostIP: "127.0.0.1", hostPort: 0, containerPort: 8080),
            PortBinding(hostIP: "", hostPort: 5353, containerPort: 53, proto: "udp"),
        ])
        #expect(throws: OnekubeError.self) {
            try ContainerCreateRequest.portBindings(try OrderedJSON(parsing: Array(#"{"x/tcp":[]}"#.utf8)))
        }
    }

    @Test func psCommandAndStatusAreMobys() {
        #expect(ContainerJSON.command(["sh", "-c", "echo bye; exit 2"]) == "sh -c 'echo bye; exit 2'")
        #expect(ContainerJSON.command(["echo", "Hello world"]) == "echo 'Hello world'")
        var record = ContainerRecord(id: String(repeating: "a", count: 64), name: "x", created: Timestamp(seconds: 100),
                                     config: ContainerConfiguration(image: "busybox", imageID: "sha256:1", layers: [], args: ["sh"],
                                                                    env: [], workingDir: "/", user: "", hostname: "h"))
        #expect(ContainerJSON.status(record, now: 200) == "Created")
        record.state.status = .running
        record.state.startedAt = Timestamp(seconds: 100)
        #expect(ContainerJSON.status(record, now: 105.5) == "Up 5 seconds")
        record.state.status = .exited
        record.state.exitCode = 137
        record.state.finishedAt = Timestamp(seconds: 100)
        #expect(ContainerJSON.status(record, now: 100 + 3 * 3600) == "Exited (137) 3 hours ago")
    }

    @Test func inspectHasTheFieldsTheCLIReads() throws {
        var config = ContainerConfiguration(image: "busybox", imageID: "sha256:1", layers: ["/l"], args: ["sleep", "9"],
                                            env: [], workingDir: "/", user: "", hostname: "abc")
        config.annotations[ContainerJSON.configKey] = #"{"Hostname":"","Tty":true,"OpenStdin":false}"#
        config.annotations[ContainerJSON.hostConfigKey] = #"{"NetworkMode":"default","AutoRemove":true}"#
        let record = ContainerRecord(id: String(repeating: "b", count: 64), name: "web", created: Timestamp(seconds: 1),
                                     config: config)
        let json = ContainerJSON.inspect(record, directory: "/d", networkID: "n")
        #expect(json["Created"]?.stringValue == "1970-01-01T00:00:01.000000000Z")
        #expect(json["Name"]?.stringValue == "/web")
        #expect(json["Path"]?.stringValue == "sleep")
        #expect(json["State"]?["Status"]?.stringValue == "created")
        #expect(json["State"]?["FinishedAt"]?.stringValue == "0001-01-01T00:00:00Z")
        #expect(json["Config"]?["Tty"]?.boolValue == true)
        #expect(json["Config"]?["Hostname"]?.stringValue == "abc")
        #expect(json["HostConfig"]?["AutoRemove"]?.boolValue == true)
        #expect(json["HostConfig"]?["NetworkMode"]?.stringValue == "bridge")
    }

    @Test func filtersSelectByStatusNameAndLabel() throws {
        var config = ContainerConfiguration(image: "busybox", imageID: "sha256:1", layers: [], args: ["sh"], env: [], workingDir: "/",
                                            user: "", hostname: "h", labels: ["app": "kubia"])
        config.labels["tier"] = "web"
        var record = ContainerRecord(id: "abcdef" + String(repeating: "0", count: 58), name: "kubia-container",
                                     created: Timestamp(seconds: 1), config: config)
        record.state.status = .running
        #expect(try ContainerFilters(#"{"status":{"running":true}}"#).matches(record))
        #expect(try !ContainerFilters(#"{"status":{"exited":true}}"#).matches(record))
        #expect(try ContainerFilters(#"{"name":{"kubia":true}}"#).matches(record))
        #expect(try ContainerFilters(#"{"name":{"^/kubia-c":true}}"#).matches(record))
        #expect(try !ContainerFilters(#"{"name":{"^kubia":true}}"#).matches(record))
        #expect(try ContainerFilters(#"{"label":{"app=kubia":true,"tier":true}}"#).matches(record))
        #expect(try !ContainerFilters(#"{"label":{"app=other":true}}"#).matches(record))
        #expect(try ContainerFilters(#"{"id":{"abcd":true}}"#).matches(record))
        #expect(throws: OnekubeError.self) { try ContainerFilters(#"{"status":{"sleeping":true}}"#) }
    }

    @Test func framesAreDockersAndSurviveAnySplit() throws {
        let frame = StreamFraming.frame(.stdout, Array("hello\n".utf8))
        #expect(frame == [1, 0, 0, 0, 0, 0, 0, 6] + Array("hello\n".utf8))
        let stream = frame + StreamFraming.frame(.stderr, Array("oops\n".utf8)) + StreamFraming.frame(.stdout, [])
        for split in 0...stream.count {
            var decoder = StreamFraming.Decoder()
            let frames = try decoder.feed(stream[..<split]) + decoder.feed(stream[split...])
            #expect(frames.map(\.0) == [.stdout, .stderr, .stdout])
            #expect(frames.map(\.1) == [Array("hello\n".utf8), Array("oops\n".utf8), []])
        }
        var decoder = StreamFraming.Decoder()
        #expect(throws: StreamFraming.Decoder.DecodeError.unrecognizedHeader(7)) { try decoder.feed([7, 0, 0, 0, 0, 0, 0, 0]) }
    }
}

@Suite("Volume binds")
struct BindSpecTests {
    @Test func bindsParseAsDocker() throws {
        let json = try OrderedJSON(parsing: Array(#"["/srv/data:/data","/etc/hosts:/h:ro","/x:/y:rw,z"]"#.utf8))
        #expect(try ContainerCreateRequest.binds(json) == [
            BindMount(source: "/srv/data", destination: "/data"),
            BindMount(source: "/etc/hosts", destination: "/h", readOnly: true),
            BindMount(source: "/x", destination: "/y"),
        ])
        for bad in [#"["named:/data"]"#, #"["/a:relative"]"#, #"["/onlyone"]"#] {
            #expect(throws: OnekubeError.self) { try ContainerCreateRequest.binds(try OrderedJSON(parsing: Array(bad.utf8))) }
        }
    }

    @Test func bindsGoAfterTheEtcFilesAndBeforeTheMasks() {
        let etc = RootfsPlan.EtcFiles(hostname: "/c/hostname", hosts: "/c/hosts", resolvConf: "/c/resolv.conf")
        let plan = RootfsPlan.container(layers: ["/l"], containerDirectory: "/c", etc: etc,
                                        binds: [BindMount(source: "/srv", destination: "/data", readOnly: true)])
        let bind = plan.steps.firstIndex(of: .bind(source: "/srv", target: "/data", readOnly: true))
        let hosts = plan.steps.firstIndex(of: .bind(source: "/c/hosts", target: "/etc/hosts", readOnly: false))
        let mask = plan.steps.firstIndex(of: .mask(path: "/proc/asound"))
        #expect(bind != nil && hosts != nil && mask != nil)
        if let bind, let hosts, let mask { #expect(hosts < bind && bind < mask) }
    }
}
