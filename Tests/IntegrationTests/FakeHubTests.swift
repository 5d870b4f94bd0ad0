import Foundation
import TestSupport
import Testing

/// Against a registry that behaves like Docker Hub: Bearer challenge, a token server on another
/// port, blobs redirected to a CDN port that rejects any request carrying Authorization.
@Suite("Docker Hub's flow and its faults")
struct FakeHubTests {
    let scratch: TemporaryDirectory
    let image: BuiltImage

    init() throws {
        scratch = try TemporaryDirectory()
        image = try TestImage.busybox(in: scratch)
    }

    var layerHex: String { String(image.layerDigests[0].dropFirst(7)) }

    @Test func bearerTokensAndRedirectsWithoutCredentials() throws {
        let hub = try FakeHub(repositories: ["library/busybox": image.layoutDirectory])
        let onekube = try OnekubeInstance()
        let pull = try onekube.docker(["pull", "\(hub.host)/library/busybox"])
        #expect(pull.status == 0, "\(pull)\n\(onekube.daemonLog)")
        #expect(pull.stdout.contains("Status: Downloaded newer image for \(hub.host)/library/busybox:latest"))

        let log = try hub.requests()
        let tokenRequests = log.filter { $0["port"] as? String == "token" }
        #expect(!tokenRequests.isEmpty)
        #expect(tokenRequests.allSatisfy { ($0["path"] as? String)?.contains("scope=repository") == true })
        let cdn = log.filter { $0["port"] as? String == "cdn" }
        #expect(cdn.count == 2, "config and layer: \(cdn)")
        #expect(cdn.allSatisfy { $0["authorization"] is NSNull || $0["authorization"] == nil }, "\(cdn)")
        #expect(cdn.allSatisfy { $0["status"] as? Int == 200 })
        let authorized = log.filter { $0["port"] as? String == "registry" && ($0["authorization"] as? String)?.hasPrefix("Bearer ") == true }
        #expect(!authorized.isEmpty)
        // One token round trip per repository, not one per request.
        #expect(tokenRequests.count == 1, "\(tokenRequests)")
    }

    @Test func refusedTokensAreRefreshed() throws {
        let hub = try FakeHub(repositories: ["library/busybox": image.layoutDirectory])
        let onekube = try OnekubeInstance()
        #expect(try onekube.docker(["pull", "\(hub.host)/library/busybox"]).status == 0)
        try hub.fault(["mode": "revoke-tokens"])
        #expect(try onekube.docker(["rmi", "\(hub.host)/library/busybox"]).status == 0)
        let again = try onekube.docker(["pull", "\(hub.host)/library/busybox"])
        #expect(again.status == 0, "\(again)\n\(onekube.daemonLog)")
        let tokens = try hub.requests().filter { $0["port"] as? String == "token" }
        #expect(tokens.count == 2, "\(tokens)")
    }

    @Test func credentialsFromTheUsersDockerConfig() throws {
        let hub = try FakeHub(repositories: ["luksa/kubia": image.layoutDirectory], user: "luksa:s3cret")
        let onekube = try OnekubeInstance()
        let home = try scratch.sub("home")
        try FileManager.default.createDirectory(atPath: home + "/.docker", withIntermediateDirectories: true)
        func login(_ password: String) throws {
            let auth = Data("luksa:\(password)".utf8).base64EncodedString()
            try #"{"auths":{"\#(hub.host)":{"auth":"\#(auth)"}}}"#.write(toFile: home + "/.docker/config.json", atomically: true, encoding: .utf8)
        }
        try login("wrong")
        let refused = try onekube.docker(["pull", "\(hub.host)/luksa/kubia"], environment: ["HOME": home])
        #expect(refused.status == 1)
        #expect(refused.stderr == "Error response from daemon: unauthorized: incorrect username or password\n", "\(refused)")

        try login("s3cret")
        let pull = try onekube.docker(["pull", "\(hub.host)/luksa/kubia"], environment: ["HOME": home])
        #expect(pull.status == 0, "\(pull)")
        let tokens = try hub.requests().filter { $0["port"] as? String == "token" && $0["status"] as? Int == 200 }
        #expect(tokens.contains { ($0["authorization"] as? String)?.hasPrefix("Basic ") == true })
        #expect(try hub.requests().filter { $0["port"] as? String == "registry" }
            .allSatisfy { ($0["authorization"] as? String)?.hasPrefix("Basic ") != true })
    }

    @Test func corruptedBlobIsRefusedAndNothingIsStored() throws {
        let hub = try FakeHub(repositories: ["library/busybox": image.layoutDirectory])
        try hub.fault(["mode": "corrupt", "digest": image.layerDigests[0]])
        let onekube = try OnekubeInstance()
        let pull = try onekube.docker(["pull", "\(hub.host)/library/busybox"])
        #expect(pull.status == 1)
        #expect(pull.stderr == "filesystem layer verification failed for digest \(image.layerDigests[0])\n", "\(pull)")
        #expect(!FileManager.default.fileExists(atPath: onekube.dataDirectory + "/blobs/sha256/" + layerHex))
        #expect(!FileManager.default.fileExists(atPath: onekube.dataDirectory + "/blobs/ingest/\(layerHex).partial"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: onekube.dataDirectory + "/layers").isEmpty)
        #expect(try onekube.docker(["images", "-q"]).stdout == "")

        try hub.fault(["mode": "clear"])
        #expect(try onekube.docker(["pull", "\(hub.host)/library/busybox"]).status == 0)
    }

    @Test func truncatedDownloadResumesWithRange() throws {
        let hub = try FakeHub(repositories: ["library/busybox": image.layoutDirectory])
        try hub.fault(["mode": "truncate-once", "digest": image.layerDigests[0]])
        let onekube = try OnekubeInstance()
        let pull = try onekube.docker(["pull", "\(hub.host)/library/busybox"])
        #expect(pull.status == 0, "\(pull)\n\(onekube.daemonLog)")
        let cdn = try hub.requests().filter { $0["port"] as? String == "cdn" && ($0["path"] as? String)?.contains(layerHex) == true }
        #expect(cdn.count == 2, "\(cdn)")
        let resumed = try #require(cdn.last?["range"] as? String)
        #expect(resumed.hasPrefix("bytes=") && resumed != "bytes=0-", "\(resumed)")
        #expect(cdn.last?["status"] as? Int == 206)
    }

    @Test func transientServerErrorsAreRetried() throws {
        let hub = try FakeHub(repositories: ["library/busybox": image.layoutDirectory])
        try hub.fault(["mode": "server-error-once", "path_contains": "/manifests/"])
        let onekube = try OnekubeInstance()
        let pull = try onekube.docker(["pull", "\(hub.host)/library/busybox"])
        #expect(pull.status == 0, "\(pull)")
        #expect(try hub.requests().contains { $0["status"] as? Int == 503 })
    }

    @Test func rateLimitGivesAClearError() throws {
        let hub = try FakeHub(repositories: ["library/busybox": image.layoutDirectory])
        try hub.fault(["mode": "ratelimit"])
        let onekube = try OnekubeInstance()
        let pull = try onekube.docker(["pull", "\(hub.host)/library/busybox"])
        #expect(pull.status == 1)
        #expect(pull.stderr.hasPrefix("Error response from daemon: toomanyrequests: You have reached your unauthenticated pull rate limit."), "\(pull)")
        #expect(pull.stderr.contains("onekube docker login"))
        #expect(pull.stderr.contains("--registry-mirror"))
    }

    @Test func unknownRepositoryIsAccessDenied() throws {
        let hub = try FakeHub(repositories: ["library/busybox": image.layoutDirectory])
        let onekube = try OnekubeInstance()
        let pull = try onekube.docker(["pull", "\(hub.host)/nosuchuser/nosuchimage"])
        #expect(pull.status == 1)
        #expect(pull.stderr == "Error response from daemon: pull access denied for \(hub.host)/nosuchuser/nosuchimage, repository does not exist or may require 'docker login': denied: requested access to the resource is denied\n")
        let viaRealCLI = try onekube.realDocker(["pull", "\(hub.host)/nosuchuser/nosuchimage"])
        #expect(viaRealCLI.status == 1)
        #expect(viaRealCLI.stderr.contains("pull access denied for \(hub.host)/nosuchuser/nosuchimage"))
    }

    @Test func concurrentPullsDownloadEachBlobOnce() throws {
        let hub = try FakeHub(repositories: ["library/busybox": image.layoutDirectory, "luksa/busybox": image.layoutDirectory])
        let onekube = try OnekubeInstance()
        let results = ResultBox()
        DispatchQueue.concurrentPerform(iterations: 3) { i in
            let name = i == 2 ? "luksa/busybox" : "library/busybox"
            results.append(try? onekube.docker(["pull", "\(hub.host)/\(name)"]))
        }
        #expect(results.all.count == 3)
        #expect(results.all.allSatisfy { $0?.status == 0 }, "\(results.all)")
        let blobGets = try hub.requests().filter {
            $0["port"] as? String == "cdn" && $0["method"] as? String == "GET" && ($0["path"] as? String)?.contains(layerHex) == true
        }
        #expect(blobGets.count == 1, "\(blobGets)")
        #expect(try onekube.docker(["images", "-q"]).stdout.split(separator: "\n").count == 2)
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [ProcessResult?] = []
    func append(_ r: ProcessResult?) { lock.lock(); results.append(r); lock.unlock() }
    var all: [ProcessResult?] { lock.lock(); defer { lock.unlock() }; return results }
}
