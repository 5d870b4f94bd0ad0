import ContainerRuntime
import Testing

@Suite("Capabilities, users and executables")
struct SecurityTests {
    @Test func dockerDefaultCapabilities() {
        // The mask `CapEff` shows for root in a Docker container.
        #expect(CapabilitySet.dockerDefault.mask == 0xa80425fb)
        #expect(CapabilitySet.dockerDefault.memberNames == [
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP",
        ])
        #expect(!CapabilitySet.dockerDefault.contains(21), "no CAP_SYS_ADMIN")
        #expect(!CapabilitySet.dockerDefault.contains(12), "no CAP_NET_ADMIN")
    }

    static let passwd = """
        root:x:0:0:root:/root:/bin/sh
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
        app:x:1000:1000::/home/app:/bin/sh
        nobody:x:65534:65534:nobody:/nonexistent:/bin/false
        """
    static let group = """
        root:x:0:
        wheel:x:10:app,daemon
        app:x:1000:
        staff:x:50:app
        """

    @Test(arguments: [
        ("", UserIdentity(uid: 0, gid: 0, home: "/root")),
        ("app", UserIdentity(uid: 1000, gid: 1000, supplementaryGroups: [10, 50], home: "/home/app")),
        ("1000", UserIdentity(uid: 1000, gid: 1000, supplementaryGroups: [10, 50], home: "/home/app")),
        ("4242", UserIdentity(uid: 4242, gid: 0, home: "/")),
        ("app:staff", UserIdentity(uid: 1000, gid: 50, home: "/home/app")),
        ("nobody:7", UserIdentity(uid: 65534, gid: 7, home: "/nonexistent")),
        ("4242:4343", UserIdentity(uid: 4242, gid: 4343, home: "/")),
    ])
    func usersResolveAsRunc(user: String, expected: UserIdentity) throws {
        #expect(try UserIdentity.resolve(user, passwd: Self.passwd, group: Self.group) == expected)
    }

    @Test func unknownNamesAreDockersErrors() throws {
        #expect(throws: ContainerStartError.userNotFound("unable to find user ghost: no matching entries in passwd file")) {
            try UserIdentity.resolve("ghost", passwd: Self.passwd, group: Self.group)
        }
        #expect(throws: ContainerStartError.userNotFound("unable to find group ghosts: no matching entries in group file")) {
            try UserIdentity.resolve("app:ghosts", passwd: Self.passwd, group: Self.group)
        }
        // An image without /etc/passwd still runs as root or as numeric IDs.
        #expect(try UserIdentity.resolve("", passwd: nil, group: nil) == UserIdentity(uid: 0, gid: 0, home: "/"))
    }

    @Test func executablesAreFoundInThePathOfTheContainer() throws {
        let files: [String: ExecutableLookup.FileKind] = [
            "/usr/bin/env": .executable, "/bin/sh": .executable, "/etc/passwd": .notExecutable, "/etc": .directory,
        ]
        let kind = { (path: String) in files[path] ?? .missing }
        let env = ["PATH=/usr/local/bin:/usr/bin:/bin"]
        #expect(try ExecutableLookup.resolve("sh", env: env, kind: kind) == "/bin/sh")
        #expect(try ExecutableLookup.resolve("env", env: env, kind: kind) == "/usr/bin/env")
        #expect(try ExecutableLookup.resolve("/bin/sh", env: [], kind: kind) == "/bin/sh")
        #expect(throws: ContainerStartError.executableNotFound("nosuchcmd")) { try ExecutableLookup.resolve("nosuchcmd", env: env, kind: kind) }
        #expect(throws: ContainerStartError.noSuchFile("/nope", path: "/nope")) { try ExecutableLookup.resolve("/nope", env: env, kind: kind) }
        #expect(throws: ContainerStartError.permissionDenied("/etc/passwd")) { try ExecutableLookup.resolve("/etc/passwd", env: env, kind: kind) }
        #expect(throws: ContainerStartError.isDirectory("/etc")) { try ExecutableLookup.resolve("/etc", env: env, kind: kind) }
        // Without PATH in the environment, Docker's default applies.
        #expect(try ExecutableLookup.resolve("sh", env: [], kind: kind) == "/bin/sh")
    }

    @Test func startErrorsCarryTheWordsTheCLIsLookFor() {
        #expect(ContainerStartError.executableNotFound("x").description == "exec: \"x\": executable file not found in $PATH")
        #expect(ContainerStartError.executableNotFound("x").exitCode == 127)
        #expect(ContainerStartError.permissionDenied("x").exitCode == 126)
    }
}
