import Foundation
import Glibc
import TestSupport
import Testing

@Suite("Pulling from a real registry (Debian's docker-registry)")
struct RegistryPullTests {
    @Test func pullThroughMirrorAndByFullNameMatchesSkopeo() throws {
        let scratch = try TemporaryDirectory()
        let registry = try LocalRegistry()
        let image = try TestImage.busybox(in: scratch)
        try registry.push(image, as: "library/busybox")
        let onekube = try OnekubeInstance(arguments: ["--registry-mirror", "http://\(registry.host)"])

        let pull = try onekube.docker(["pull", "busybox"])
        #expect(pull.status == 0, "\(pull)\n\(onekube.daemonLog)")
        let layer = String(image.layerDigests[0].dropFirst(7).prefix(12))
        #expect(pull.stdout == """
            Using default tag: latest
            latest: Pulling from library/busybox
            \(layer): Pulling fs layer
            \(layer): Verifying Checksum
            \(layer): Download complete
            \(layer): Pull complete
            Digest: \(image.topDigest)
            Status: Downloaded newer image for busybox:latest
            docker.io/library/busybox:latest

            """)

        let again = try onekube.docker(["pull", "busybox"])
        #expect(again.stdout.contains("Status: Image is up to date for busybox:latest"))

        let byName = try onekube.docker(["pull", "\(registry.host)/library/busybox"])
        #expect(byName.status == 0, "\(byName)")
        #expect(byName.stdout.contains("\(layer): Already exists"))

        let images = try onekube.docker(["images"])
        #expect(images.lines[0] == "REPOSITORY                       TAG       IMAGE ID       CREATED        SIZE"
            || images.lines[0].hasPrefix("REPOSITORY "))
        #expect(images.stdout.contains("busybox "))
        #expect(images.stdout.contains("\(registry.host)/library/busybox"))

        // What skopeo reads from the registry is what onekube stored.
        let skopeo = try json(try Run.checked("skopeo", ["inspect", "--tls-verify=false", "docker://\(registry.host)/library/busybox:latest"]).stdout) as? [String: Any]
        let config = try json(try Run.checked("skopeo", ["inspect", "--config", "--tls-verify=false", "docker://\(registry.host)/library/busybox:latest"]).stdout) as? [String: Any]
        let inspect = try #require(try json(try onekube.docker(["image", "inspect", "busybox"]).stdout) as? [[String: Any]]).first
        #expect(inspect?["Id"] as? String == image.configDigest)
        let digest = try #require(skopeo?["Digest"] as? String)
        #expect(inspect?["RepoDigests"] as? [String] == ["\(registry.host)/library/busybox@\(digest)", "busybox@\(digest)"])
        let rootfs = inspect?["RootFS"] as? [String: Any]
        #expect(rootfs?["Layers"] as? [String] == (config?["rootfs"] as? [String: Any])?["diff_ids"] as? [String])
        let inspectConfig = inspect?["Config"] as? [String: Any]
        #expect(inspectConfig?["Env"] as? [String] == skopeo?["Env"] as? [String])
        #expect(inspectConfig?["Cmd"] as? [String] == ["sh"])
        #expect(inspect?["Created"] as? String == skopeo?["Created"] as? String)
    }

    @Test func indexPullPicksTheHostPlatformAndSkipsAttestations() throws {
        let scratch = try TemporaryDirectory()
        let registry = try LocalRegistry()
        let image = try TestImage.busybox(in: scratch, multiPlatform: true)
        try registry.push(image, as: "multi/busybox")
        let onekube = try OnekubeInstance()
        let pull = try onekube.docker(["pull", "\(registry.host)/multi/busybox"])
        #expect(pull.status == 0, "\(pull)\n\(onekube.daemonLog)")
        #expect(pull.stdout.contains("Digest: \(image.topDigest)"))
        let inspect = try #require(try json(try onekube.docker(["image", "inspect", "\(registry.host)/multi/busybox"]).stdout) as? [[String: Any]]).first
        #expect(inspect?["Id"] as? String == image.configDigest)
        #expect(inspect?["RepoDigests"] as? [String] == ["\(registry.host)/multi/busybox@\(image.topDigest)"])
    }

    @Test func whiteoutsAndZstdLayersStackAsOverlayfs() throws {
        let scratch = try TemporaryDirectory()
        let registry = try LocalRegistry()
        let image = try TestImage.layered(in: scratch)
        try registry.push(image, as: "test/layered")
        let onekube = try OnekubeInstance()
        let pull = try onekube.docker(["pull", "\(registry.host)/test/layered"])
        #expect(pull.status == 0, "\(pull)\n\(onekube.daemonLog)")

        let inspect = try #require(try json(try onekube.docker(["image", "inspect", "\(registry.host)/test/layered"]).stdout) as? [[String: Any]]).first
        let lowerDir = try #require(((inspect?["GraphDriver"] as? [String: Any])?["Data"] as? [String: Any])?["LowerDir"] as? String)
        let dirs = lowerDir.split(separator: ":").map(String.init)
        #expect(dirs.count == 2)
        // No marker files, only overlayfs whiteouts.
        #expect(!FileManager.default.fileExists(atPath: dirs[0] + "/etc/.wh.motd"))
        var st = stat()
        #expect(lstat(dirs[0] + "/etc/motd", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0)

        // Mounted as overlayfs the way containers will see it.
        let merged = try scratch.sub("merged")
        try Run.checked("mount", ["-t", "overlay", "overlay", "-o", "lowerdir=\(lowerDir)", merged])
        defer { _ = try? Run.program("umount", [merged]) }
        #expect(!FileManager.default.fileExists(atPath: merged + "/etc/motd"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: merged + "/etc/app") == ["b"])
        #expect(FileManager.default.isExecutableFile(atPath: merged + "/bin/sh"))
        let hello = try Run.checked("chroot", [merged, "/bin/sh", "-c", "echo hello from the image"])
        #expect(hello.stdout == "hello from the image\n")
    }

    @Test func rmiUntagsDeletesAndCollectsGarbage() throws {
        let scratch = try TemporaryDirectory()
        let registry = try LocalRegistry()
        let image = try TestImage.busybox(in: scratch)
        try registry.push(image, as: "library/busybox")
        let onekube = try OnekubeInstance(arguments: ["--registry-mirror", "http://\(registry.host)"])
        #expect(try onekube.docker(["pull", "busybox"]).status == 0)
        #expect(try onekube.docker(["tag", "busybox", "luksa/busybox:v1"]).status == 0)

        let untagOnly = try onekube.docker(["rmi", "luksa/busybox:v1"])
        #expect(untagOnly.stdout == "Untagged: luksa/busybox:v1\n")

        let rmi = try onekube.docker(["rmi", "busybox"])
        #expect(rmi.status == 0, "\(rmi)")
        #expect(rmi.stdout == """
            Untagged: busybox:latest
            Untagged: busybox@\(image.topDigest)
            Deleted: \(image.configDigest)
            Deleted: \(image.diffIDs[0])

            """)
        #expect(try onekube.docker(["images", "-q"]).stdout == "")
        let blobs = try FileManager.default.contentsOfDirectory(atPath: onekube.dataDirectory + "/blobs/sha256")
        #expect(blobs.isEmpty, "\(blobs)")
        let layers = try FileManager.default.contentsOfDirectory(atPath: onekube.dataDirectory + "/layers")
        #expect(layers.isEmpty, "\(layers)")

        let missing = try onekube.docker(["rmi", "busybox"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "Error response from daemon: No such image: busybox\n")
        let inspectMissing = try onekube.docker(["image", "inspect", "nope"])
        #expect(inspectMissing.status == 1)
        #expect(inspectMissing.stdout == "[]\n")
    }

    @Test func unknownRepositoryAndTagReadLikeDocker() throws {
        let scratch = try TemporaryDirectory()
        let registry = try LocalRegistry()
        try registry.push(try TestImage.busybox(in: scratch), as: "library/busybox")
        let onekube = try OnekubeInstance()
        let tag = try onekube.docker(["pull", "\(registry.host)/library/busybox:nosuchtag"])
        #expect(tag.status == 1)
        #expect(tag.stderr == "Error response from daemon: manifest for \(registry.host)/library/busybox:nosuchtag not found: manifest unknown: manifest unknown\n")
        let repo = try onekube.docker(["pull", "\(registry.host)/nosuch/image"])
        #expect(repo.status == 1)
        // distribution answers MANIFEST_UNKNOWN for a repository it never saw, so docker says the same.
        #expect(repo.stderr == "Error response from daemon: manifest for \(registry.host)/nosuch/image:latest not found: manifest unknown: manifest unknown\n")
        let bad = try onekube.docker(["pull", "Busybox"])
        #expect(bad.status == 1)
        #expect(bad.stderr == "invalid reference format: repository name (library/Busybox) must be lowercase\n")
    }

    @Test func theRealDockerCLIAgreesWithTheBuiltInOne() throws {
        let scratch = try TemporaryDirectory()
        let registry = try LocalRegistry()
        let image = try TestImage.busybox(in: scratch)
        try registry.push(image, as: "library/busybox")
        try registry.push(image, as: "luksa/kubia")
        let onekube = try OnekubeInstance(arguments: ["--registry-mirror", "http://\(registry.host)"])

        let pull = try onekube.realDocker(["pull", "busybox"])
        #expect(pull.status == 0, "\(pull)\n\(onekube.daemonLog)")
        #expect(pull.stdout.contains("Status: Downloaded newer image for busybox:latest"))
        #expect(pull.stdout.hasSuffix("docker.io/library/busybox:latest\n"))
        #expect(try onekube.realDocker(["pull", "\(registry.host)/luksa/kubia"]).status == 0)
        #expect(try onekube.realDocker(["tag", "busybox", "luksa/busybox:v1"]).status == 0)

        for command in [["images"], ["images", "busybox"], ["images", "-q"], ["images", "--digests"],
                        ["image", "inspect", "busybox"], ["image", "inspect", "luksa/busybox:v1"],
                        ["image", "inspect", String(image.configDigest.dropFirst(7).prefix(12))]] {
            let real = try onekube.realDocker(command)
            let ours = try onekube.docker(command)
            #expect(real.status == 0, "\(command): \(real)")
            // Row order within one image is Go map order in the real CLI: compare the header and the set of rows.
            #expect(ours.lines.first == real.lines.first, "docker \(command.joined(separator: " "))")
            #expect(ours.lines.sorted() == real.lines.sorted(), "docker \(command.joined(separator: " "))")
        }

        let missing = try onekube.realDocker(["image", "inspect", "nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("No such image: nope"))

        let rmi = try onekube.realDocker(["rmi", "luksa/busybox:v1"])
        #expect(rmi.stdout == "Untagged: luksa/busybox:v1\n")
        #expect(try onekube.realDocker(["rmi", "busybox", "\(registry.host)/luksa/kubia"]).status == 0)
        #expect(try onekube.realDocker(["images", "-q"]).stdout == "")
    }

    @Test func hostileLayerFailsThePullAndLeavesNothing() throws {
        let scratch = try TemporaryDirectory()
        let tar = scratch.path + "/hostile.tar"
        try OCILayoutBuilder.writeTar(tar, entries: [["name": "bin", "type": "dir"], ["name": "bin/ok", "data": "ok"],
                                                     ["name": "../../escaped", "data": "pwned"]])
        let image = try OCILayoutBuilder.build(layout: try scratch.sub("hostile"), layers: [LayerSource(tarFile: tar)])
        let registry = try LocalRegistry()
        try registry.push(image, as: "evil/image")
        let onekube = try OnekubeInstance()
        let pull = try onekube.docker(["pull", "\(registry.host)/evil/image"])
        #expect(pull.status == 1)
        #expect(pull.stderr.contains("escapes the layer root"), "\(pull)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: onekube.dataDirectory + "/layers").isEmpty)
        #expect(try onekube.docker(["images", "-q"]).stdout == "")
        #expect(!FileManager.default.fileExists(atPath: onekube.dataDirectory + "/escaped"))
    }
}
