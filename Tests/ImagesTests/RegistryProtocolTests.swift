import Foundation
import Platform
import Testing
@testable import Images

@Suite("WWW-Authenticate challenges")
struct AuthChallengeTests {
    @Test func dockerHubBearer() {
        let challenges = AuthChallenge.parse(#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#)
        #expect(challenges.count == 1)
        #expect(challenges[0].scheme == "bearer")
        #expect(challenges[0].realm == "https://auth.docker.io/token")
        #expect(challenges[0].service == "registry.docker.io")
        #expect(challenges[0].scopes == ["repository:library/busybox:pull"])
    }

    @Test func severalScopesAndChallenges() {
        let header = #"Bearer realm="https://r/token",scope="repository:a:pull repository:b:pull,push", Basic realm="Registry Realm""#
        let challenges = AuthChallenge.parse(header)
        #expect(challenges.map(\.scheme) == ["bearer", "basic"])
        #expect(challenges[0].scopes == ["repository:a:pull", "repository:b:pull,push"])
        #expect(challenges[1].realm == "Registry Realm")
    }

    @Test func escapesTokensAndInsufficientScope() {
        let challenges = AuthChallenge.parse(#"Bearer realm="https://r/\"t\"", error=insufficient_scope"#)
        #expect(challenges[0].realm == #"https://r/"t""#)
        #expect(challenges[0].parameters["error"] == "insufficient_scope")
    }
}

@Suite("Choosing a manifest from an index")
struct PlatformSelectorTests {
    func descriptor(_ arch: String, _ os: String = "linux", variant: String? = nil, type: String = MediaType.ociManifest,
                    annotations: [String: String]? = nil, fill: Character = "a") -> Descriptor {
        var d = Descriptor(mediaType: type, digest: Digest(sha256Hex: String(repeating: fill, count: 64)), size: 1,
                           platform: ImagePlatform(architecture: arch, os: os, variant: variant))
        d.annotations = annotations
        return d
    }

    @Test func picksHostPlatformAndSkipsAttestations() {
        let amd64 = descriptor("amd64", fill: "b")
        let index = ImageIndex(schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [
            descriptor("unknown", "unknown", annotations: ["vnd.docker.reference.type": "attestation-manifest"], fill: "c"),
            descriptor("arm", variant: "v7", fill: "d"), descriptor("arm64", variant: "v8", fill: "e"), amd64,
            descriptor("amd64", type: "application/vnd.example.unknown", fill: "f"),
        ])
        #expect(PlatformSelector(os: "linux", architecture: "amd64").select(from: index) == amd64)
        #expect(PlatformSelector(os: "linux", architecture: "arm64", variant: "v8").select(from: index)?.digest.hex.first == "e")
    }

    @Test func arm64WithoutVariantMatches() {
        let index = ImageIndex(schemaVersion: 2, mediaType: nil, manifests: [descriptor("arm64", fill: "9")])
        #expect(PlatformSelector(os: "linux", architecture: "arm64", variant: "v8").select(from: index) != nil)
    }

    @Test func noMatchIsNil() {
        let index = ImageIndex(schemaVersion: 2, mediaType: nil, manifests: [
            descriptor("unknown", "unknown", annotations: ["vnd.docker.reference.type": "attestation-manifest"]),
        ])
        #expect(PlatformSelector(os: "linux", architecture: "amd64").select(from: index) == nil)
    }
}

@Suite("Manifest media types and registry errors")
struct RegistryResponseTests {
    @Test func contentTypeWinsAndMismatchIsRefused() throws {
        let body = Array(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#.utf8)
        #expect(try RegistryRepositoryClient.manifestMediaType(contentType: "application/vnd.oci.image.manifest.v1+json; charset=utf-8", body: body) == MediaType.ociManifest)
        #expect(throws: OnekubeError.self) {
            try RegistryRepositoryClient.manifestMediaType(contentType: MediaType.dockerManifest, body: body)
        }
    }

    @Test func genericContentTypeFallsBackToTheBody() throws {
        let index = Array(#"{"schemaVersion":2,"manifests":[]}"#.utf8)
        #expect(try RegistryRepositoryClient.manifestMediaType(contentType: "application/json", body: index) == MediaType.ociIndex)
        let schema1 = Array(#"{"schemaVersion":1,"fsLayers":[]}"#.utf8)
        #expect(try RegistryRepositoryClient.manifestMediaType(contentType: nil, body: schema1) == MediaType.schema1)
    }

    @Test func errorsReadLikeDockers() throws {
        let reference = try ImageReference.parse("nosuchuser/nosuchimage")
        let unauthorized = Array(#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#.utf8)
        #expect(RegistryFailure.forManifest(status: 401, body: unauthorized, reference: reference).description
            == "pull access denied for nosuchuser/nosuchimage, repository does not exist or may require 'docker login': denied: requested access to the resource is denied")
        let unknown = Array(#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#.utf8)
        let tagged = try ImageReference.parse("busybox:nosuch")
        #expect(RegistryFailure.forManifest(status: 404, body: unknown, reference: tagged).description
            == "manifest for busybox:nosuch not found: manifest unknown: manifest unknown")
        let limited = Array(#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}"#.utf8)
        let error = RegistryFailure.forManifest(status: 429, body: limited, reference: tagged)
        #expect(error.code == .tooManyRequests)
        #expect(error.description.hasPrefix("toomanyrequests: You have reached your pull rate limit."))
        #expect(error.description.contains("docker login"))
        #expect(error.description.contains("--registry-mirror"))
    }

    @Test func credentialsFromDockerConfig() throws {
        let dir = NSTemporaryDirectory() + "onekube-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let auth = Data("luksa:s3cret:with:colons".utf8).base64EncodedString()
        try #"{"auths":{"https://index.docker.io/v1/":{"auth":"\#(auth)"},"https://127.0.0.1:5000":{"auth":"\#(Data("u:p".utf8).base64EncodedString())"}}}"#
            .write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        let config = try DockerConfigFile.load(path: dir + "/config.json")
        #expect(config.credential(forDomain: "docker.io") == RegistryCredential(username: "luksa", password: "s3cret:with:colons"))
        #expect(config.credential(forDomain: "127.0.0.1:5000") == RegistryCredential(username: "u", password: "p"))
        #expect(config.credential(forDomain: "example.com") == nil)
        #expect(try DockerConfigFile.load(path: dir + "/missing.json").auths.isEmpty)
    }

    @Test func loopbackRegistriesAreInsecureByDefault() {
        let config = RegistryConfiguration(mirrors: ["http://127.0.0.1:5000/"], insecureRegistries: ["registry.lan:5000"])
        #expect(config.endpoints(for: "docker.io").map(\.baseURL) == ["http://127.0.0.1:5000", "https://registry-1.docker.io"])
        #expect(config.endpoints(for: "localhost:5000").map(\.baseURL) == ["http://localhost:5000"])
        #expect(config.endpoints(for: "registry.lan:5000").map(\.baseURL) == ["http://registry.lan:5000"])
        #expect(config.endpoints(for: "ghcr.io").map(\.baseURL) == ["https://ghcr.io"])
    }

    @Test func originIgnoresPathAndMakesPortsExplicit() {
        #expect(RegistryRepositoryClient.origin(of: "https://registry-1.docker.io/v2/x") == "https://registry-1.docker.io:443")
        #expect(RegistryRepositoryClient.origin(of: "http://127.0.0.1:5000/v2/") == "http://127.0.0.1:5000")
        #expect(RegistryRepositoryClient.origin(of: "http://127.0.0.1:5001/v2/") != RegistryRepositoryClient.origin(of: "http://127.0.0.1:5000/v2/"))
    }
}
