import Platform
import Testing
@testable import Images

@Suite("Image references are normalised as Docker does")
struct ImageReferenceTests {
    static let hex = String(repeating: "ab", count: 32)

    @Test("valid references", arguments: [
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("index.docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("docker.io/library/busybox:latest", "docker.io/library/busybox:latest", "busybox:latest"),
        ("luksa/kubia", "docker.io/luksa/kubia:latest", "luksa/kubia:latest"),
        ("luksa/kubia:v1", "docker.io/luksa/kubia:v1", "luksa/kubia:v1"),
        ("docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"),
        ("localhost/foo", "localhost/foo:latest", "localhost/foo:latest"),
        ("localhost:5000/foo/bar:v1", "localhost:5000/foo/bar:v1", "localhost:5000/foo/bar:v1"),
        ("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest", "127.0.0.1:5000/x:latest"),
        ("[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest"),
        ("example.com/a/b/c", "example.com/a/b/c:latest", "example.com/a/b/c:latest"),
        ("Foo/bar", "Foo/bar:latest", "Foo/bar:latest"),
        ("foo_bar", "docker.io/library/foo_bar:latest", "foo_bar:latest"),
        ("foo__bar", "docker.io/library/foo__bar:latest", "foo__bar:latest"),
        ("foo--bar.baz", "docker.io/library/foo--bar.baz:latest", "foo--bar.baz:latest"),
        ("a:" + String(repeating: "t", count: 128), "docker.io/library/a:" + String(repeating: "t", count: 128), "a:" + String(repeating: "t", count: 128)),
    ])
    func valid(input: String, normalized: String, familiar: String) throws {
        let reference = try ImageReference.parse(input)
        #expect(reference.description == normalized)
        #expect(reference.familiarString == familiar)
    }

    @Test func digestWinsOverTag() throws {
        let reference = try ImageReference.parse("busybox:1.36@sha256:\(Self.hex)")
        #expect(reference.tag == nil)
        #expect(reference.description == "docker.io/library/busybox@sha256:\(Self.hex)")
        #expect(reference.familiarString == "busybox@sha256:\(Self.hex)")
        #expect(reference.registryReference == "sha256:\(Self.hex)")
    }

    @Test func tagAfterPortIsNotConfusedWithPort() throws {
        let reference = try ImageReference.parse("localhost:5000/foo")
        #expect(reference.domain == "localhost:5000")
        #expect(reference.path == "foo")
        #expect(reference.tag == "latest")
    }

    @Test("invalid references and docker's messages", arguments: [
        ("", "invalid reference format"),
        ("busybox:", "invalid reference format"),
        (":tag", "invalid reference format"),
        ("a:b:c", "invalid reference format"),
        ("foo___bar", "invalid reference format"),
        ("-foo", "invalid reference format"),
        ("foo-", "invalid reference format"),
        ("a/b@sha256:abc", "invalid reference format"),
        ("a:" + String(repeating: "t", count: 129), "invalid reference format"),
        ("Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"),
        ("foo/Bar", "invalid reference format: repository name (foo/Bar) must be lowercase"),
        (hex, "invalid repository name (\(hex)), cannot specify 64-byte hexadecimal strings"),
    ])
    func invalid(input: String, message: String) {
        #expect(throws: OnekubeError(.invalidArgument, message)) { try ImageReference.parse(input) }
    }

    @Test func nameLongerThan255IsRejected() {
        let long = String(repeating: "a", count: 250) + "/" + String(repeating: "b", count: 10)
        #expect(throws: OnekubeError.self) { try ImageReference.parse(long) }
    }
}

@Suite struct DigestTests {
    @Test func parsesAndFormats() throws {
        let hex = String(repeating: "0f", count: 32)
        let digest = try Digest(parsing: "sha256:\(hex)")
        #expect(digest.hex == hex)
        #expect(digest.shortHex == "0f0f0f0f0f0f")
        #expect(digest.description == "sha256:\(hex)")
    }

    @Test("rejects malformed digests", arguments: [
        "sha256", "sha256:", "sha256:abc", "sha256:" + String(repeating: "A", count: 64),
        "sha256:" + String(repeating: "a", count: 63), "1sha:" + String(repeating: "a", count: 64),
    ])
    func rejects(_ text: String) {
        #expect(throws: OnekubeError.self) { try Digest(parsing: text) }
    }

    @Test func sha256OfKnownInput() {
        #expect(Digest.sha256(of: Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func chainIDsFollowTheOCIDefinition() throws {
        let a = Digest(sha256Hex: String(repeating: "a", count: 64))
        let b = Digest(sha256Hex: String(repeating: "b", count: 64))
        let c = Digest(sha256Hex: String(repeating: "c", count: 64))
        let chains = LayerStore.chainIDs([a, b, c])
        #expect(chains[0] == a)
        #expect(chains[1].hex == SHA256Hasher.hex("\(a) \(b)"))
        #expect(chains[2].hex == SHA256Hasher.hex("\(chains[1]) \(c)"))
    }
}
