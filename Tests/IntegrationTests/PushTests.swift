import Foundation
import Glibc
import Platform
import TestSupport
import Testing

/// The book's 2.1.7: tag, login, push to a registry (Debian's docker-registry on 127.0.0.1),
/// checked with skopeo, pulled back into a clean data directory.
@Suite("docker tag, login, push")
struct PushTests {
    @Test(arguments: DockerClientKind.allCases)
    func pushToARegistryAndPullItBack(client: DockerClientKind) throws {
        let scratch = try TemporaryDirectory("onekube-push")
        let context = try BuildTests.offlineKubia(in: scratch)
        let registry = try LocalRegistry()
        let onekube = try OnekubeInstance()
        #expect(try BuildTests.build(onekube, client, ["-t", "kubia", "."], in: context).status == 0)

        let target = "\(registry.host)/luksa/kubia"
        #expect(try onekube.docker(client, ["tag", "kubia", target]).status == 0)
        let push = try onekube.docker(client, ["push", target])
        #expect(push.status == 0, "\(push)\n\(onekube.daemonLog)")
        let lines = push.lines
        #expect(lines.first == "Using default tag: latest", "\(push)")
        #expect(lines.contains("The push refers to repository [\(target)]"), "\(push)")
        #expect(lines.filter { $0.hasSuffix(": Pushed") }.count == 3, "\(push)")
        let digestLine = try #require(lines.first { $0.hasPrefix("latest: digest: sha256:") }, "\(push)")
        let digest = String(digestLine.split(separator: " ")[2])

        let inspect = try Run.checked("skopeo", ["inspect", "--tls-verify=false", "docker://\(target):latest"])
        let object = try #require(try json(inspect.stdout) as? [String: Any])
        #expect(object["Digest"] as? String == digest, "\(inspect)")
        #expect((object["Layers"] as? [String])?.count == 3, "\(inspect)")
        let local = try onekube.docker(client, ["image", "inspect", "-f", "{{json .RepoDigests}}", target])
        #expect(local.stdout.contains("\(target)@\(digest)"), "the pushed image knows its digest: \(local)")
        let copy = try Run.program("skopeo", ["copy", "--quiet", "--src-tls-verify=false", "docker://\(target):latest", "oci:\(scratch.path)/copied:latest"])
        #expect(copy.status == 0, "\(copy)")

        // Again: the registry has every blob; into another repository: mounted, not uploaded.
        let again = try onekube.docker(client, ["push", target])
        #expect(again.lines.filter { $0.hasSuffix(": Layer already exists") }.count == 3, "\(again)")
        let other = "\(registry.host)/other/kubia:v1"
        #expect(try onekube.docker(client, ["tag", "kubia", other]).status == 0)
        let mounted = try onekube.docker(client, ["push", other])
        #expect(mounted.lines.filter { $0.hasSuffix(": Mounted from luksa/kubia") }.count == 3, "\(mounted)")
        #expect(mounted.lines.contains("v1: digest: \(digest) size: \(digestLine.split(separator: " ").last ?? "")"), "\(mounted)")

        // A clean data directory pulls it back and runs it.
        let clean = try OnekubeInstance()
        let port = try freePort()
        let run = try clean.docker(client, ["run", "-d", "-p", "127.0.0.1:\(port):8080", target])
        #expect(run.status == 0, "\(run)\n\(clean.daemonLog)")
        let shortID = String(run.stdout.prefix(12))
        try waitUntil("the pulled kubia to answer on 127.0.0.1:\(port)") {
            (try? Run.program("curl", ["-s", "--max-time", "2", "127.0.0.1:\(port)"]))?.stdout == "You've hit \(shortID)\n"
        }
        // httpd ignores SIGTERM: removed now, it does not hold up the daemon's stop for 10 s.
        #expect(try clean.docker(client, ["rm", "-f", shortID]).status == 0)

        let unknown = try onekube.docker(client, ["push", "\(registry.host)/luksa/nope"])
        #expect(unknown.status == 1, "\(unknown)")
        #expect(unknown.stderr.contains("An image does not exist locally with the tag: \(registry.host)/luksa/nope"), "\(unknown)")
    }

    @Test(arguments: DockerClientKind.allCases)
    func loginThenPushToARegistryWithHtpasswd(client: DockerClientKind) throws {
        let scratch = try TemporaryDirectory("onekube-push")
        let context = try BuildTests.offlineKubia(in: scratch)
        let registry = try LocalRegistry(htpasswd: ("luksa", "s3cret"))
        let onekube = try OnekubeInstance()
        #expect(try BuildTests.build(onekube, client, ["-t", "kubia", "."], in: context).status == 0)
        let target = "\(registry.host)/luksa/kubia:v1"
        #expect(try onekube.docker(client, ["tag", "kubia", target]).status == 0)
        let (argv, base) = onekube.dockerCommand(client)
        var environment = base
        environment["DOCKER_CONFIG"] = try scratch.sub("docker-config")
        func docker(_ arguments: [String], stdin: String? = nil) throws -> ProcessResult {
            try Run.program(argv[0], Array(argv.dropFirst()) + arguments, environment: environment, stdin: stdin)
        }

        let denied = try docker(["push", target])
        #expect(denied.status == 1, "\(denied)")
        #expect(denied.stderr.contains("denied: requested access to the resource is denied"), "\(denied)")

        let wrong = try docker(["login", "-u", "luksa", "--password-stdin", registry.host], stdin: "nope\n")
        #expect(wrong.status == 1, "\(wrong)")
        #expect(wrong.stderr.contains("Error response from daemon: login attempt to http://\(registry.host)/v2/ failed with status: 401 Unauthorized"), "\(wrong)")
        #expect(!FileManager.default.fileExists(atPath: environment["DOCKER_CONFIG", default: ""] + "/config.json"))

        let login = try docker(["login", "-u", "luksa", "--password-stdin", registry.host], stdin: "s3cret\n")
        #expect(login.status == 0, "\(login)\n\(onekube.daemonLog)")
        #expect(login.stdout.contains("Login Succeeded"), "\(login)")
        let config = try String(contentsOfFile: environment["DOCKER_CONFIG", default: ""] + "/config.json", encoding: .utf8)
        #expect(config.contains(Data("luksa:s3cret".utf8).base64EncodedString()), "\(config)")

        let push = try docker(["push", target])
        #expect(push.status == 0, "\(push)\n\(onekube.daemonLog)")
        #expect(push.stdout.contains("v1: digest: sha256:"), "\(push)")
        let inspect = try Run.program("skopeo", ["inspect", "--tls-verify=false", "--creds", "luksa:s3cret", "docker://\(target)"])
        #expect(inspect.status == 0, "\(inspect)")

        let logout = try docker(["logout", registry.host])
        #expect(logout.stdout == "Removing login credentials for \(registry.host)\n", "\(logout)")
        #expect(try docker(["push", target]).status == 1)
    }
}
