import KubeModel
import Platform
import Testing
@testable import KubeProtobuf

/// Bodies built byte by byte, decoded, and compared with the JSON Go writes for the same object.
@Suite("Kubernetes protobuf bodies decode to the JSON of the same object")
struct KubernetesProtobufTests {
    func decode(_ apiVersion: String, _ kind: String, _ object: [UInt8]) throws -> String {
        try KubernetesProtobuf.decodeObject(WireWriter.envelope(apiVersion: apiVersion, kind: kind, object),
                                            defaultAPIVersion: apiVersion, defaultKind: kind).serialized()
    }

    func failure(_ body: [UInt8], apiVersion: String = "v1", kind: String = "ConfigMap") -> ProtobufDecodingError? {
        do {
            _ = try KubernetesProtobuf.decodeObject(body, defaultAPIVersion: apiVersion, defaultKind: kind)
            return nil
        } catch {
            return error
        }
    }

    /// ObjectMeta as client-go writes it: every non-pointer field, zero or not.
    static func metadata(_ name: String, labels: [(String, String)] = []) -> (WireWriter) -> Void {
        { meta in
            meta.string(1, name).string(2, "").string(3, "").string(4, "").string(5, "").string(6, "").int(7, 0)
            meta.message(8) { _ in }
            for (key, value) in labels { meta.entry(11, key, value) }
        }
    }

    @Test func aNamespaceAsKubectlSendsIt() throws {
        let body = WireWriter.object { ns in
            ns.message(1, Self.metadata("foo"))
            ns.message(2) { _ in }
            ns.message(3) { $0.string(1, "") }
        }
        // Zero omitempty strings are left out; the zero creationTimestamp is null, as in Go's JSON.
        #expect(try decode("v1", "Namespace", body)
            == #"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"foo","creationTimestamp":null},"spec":{},"status":{}}"#)
    }

    @Test func nestedMessagesMapsAndPointerZeros() throws {
        let body = WireWriter.object { deployment in
            deployment.message(1, Self.metadata("d", labels: [("app", "d")]))
            deployment.message(2) { spec in
                spec.int(1, 0) // replicas is a pointer: 0 stays
                spec.message(2) { $0.entry(1, "app", "d") }
                spec.message(3) { template in
                    template.message(1, Self.metadata("", labels: [("tier", "web"), ("app", "d")]))
                    template.message(2) { pod in
                        pod.message(2) { container in
                            container.string(1, "busybox").string(2, "busybox")
                            container.message(8) { _ in }
                            container.varint(16, 0) // stdin: a plain bool, false is left out
                        }
                        pod.string(3, "")
                    }
                }
                spec.message(4) { $0.string(1, "") }
                spec.int(5, 0)
                spec.varint(7, 0)
            }
            deployment.message(3) { _ in }
        }
        let expected = #"{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"d","creationTimestamp":null,"labels":{"app":"d"}},"#
            + #""spec":{"replicas":0,"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"creationTimestamp":null,"#
            + #""labels":{"app":"d","tier":"web"}},"spec":{"containers":[{"name":"busybox","image":"busybox","resources":{}}]}},"#
            + #""strategy":{}},"status":{}}"#
        #expect(try decode("apps/v1", "Deployment", body) == expected)
    }

    @Test func fieldsFollowTheDeclarationOrderNotTheWireOrder() throws {
        let body = WireWriter.object { rs in
            rs.message(3) { $0.int(1, 2) }
            rs.message(1, Self.metadata("r"))
        }
        #expect(try decode("apps/v1", "ReplicaSet", body)
            == #"{"kind":"ReplicaSet","apiVersion":"apps/v1","metadata":{"name":"r","creationTimestamp":null},"status":{"replicas":2}}"#)
    }

    func podWithSupplementalGroups(_ write: (WireWriter) -> Void) throws -> String {
        try decode("v1", "Pod", WireWriter.object { pod in
            pod.message(2) { spec in spec.message(14, write) }
        })
    }

    @Test func repeatedVarintsPackedOrNot() throws {
        let packed = try podWithSupplementalGroups { context in
            let run = WireWriter()
            for group in [1, 2, 300, 70_000] as [UInt64] { run.varint(group) }
            context.bytes(4, run.bytes)
        }
        let unpacked = try podWithSupplementalGroups { context in
            for group in [1, 2, 300, 70_000] as [UInt64] { context.varint(4, group) }
        }
        #expect(packed == #"{"kind":"Pod","apiVersion":"v1","spec":{"securityContext":{"supplementalGroups":[1,2,300,70000]}}}"#)
        #expect(unpacked == packed)
    }

    @Test func intOrStringAsNumberAndAsString() throws {
        let body = WireWriter.object { service in
            service.message(2) { spec in
                spec.message(1) { port in
                    port.string(1, "").string(2, "TCP").int(3, 80)
                    port.message(4) { $0.int(1, 0).int(2, 8080).string(3, "") }
                    port.int(5, 0)
                }
                spec.message(1) { port in
                    port.int(3, 443)
                    port.message(4) { $0.int(1, 1).int(2, 0).string(3, "https") }
                }
            }
        }
        #expect(try decode("v1", "Service", body)
            == #"{"kind":"Service","apiVersion":"v1","spec":{"ports":[{"protocol":"TCP","port":80,"targetPort":8080},{"port":443,"targetPort":"https"}]}}"#)
    }

    @Test func quantitiesAreStringsAndTheEmptyOneIsZero() throws {
        let body = WireWriter.object { pod in
            pod.message(2) { spec in
                spec.message(2) { container in
                    container.string(1, "c")
                    container.message(8) { resources in
                        resources.message(1) { $0.string(1, "cpu").message(2) { $0.string(1, "500m") } }
                        resources.message(1) { $0.string(1, "memory").message(2) { $0.string(1, "128Mi") } }
                        resources.message(2) { $0.string(1, "cpu").message(2) { _ in } }
                    }
                }
            }
        }
        #expect(try decode("v1", "Pod", body)
            == #"{"kind":"Pod","apiVersion":"v1","spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"0"}}}]}}"#)
    }

    @Test func timesAndMicroTimes() throws {
        let event = WireWriter.object { event in
            event.message(1, Self.metadata("e"))
            event.message(6) { $0.int(1, 1_136_214_245).int(2, 999) } // Time keeps whole seconds
            event.message(7) { _ in }
            event.message(10) { $0.int(1, 1_136_214_245).int(2, 123_456_789) }
        }
        #expect(try decode("v1", "Event", event)
            == #"{"kind":"Event","apiVersion":"v1","metadata":{"name":"e","creationTimestamp":null},"#
            + #""firstTimestamp":"2006-01-02T15:04:05Z","lastTimestamp":null,"eventTime":"2006-01-02T15:04:05.123456Z"}"#)
    }

    @Test("Go's time.Duration.String", arguments: [
        (Int64(0), "0s"), (1, "1ns"), (1_500, "1.5µs"), (1_500_000, "1.5ms"), (999_999_999, "999.999999ms"),
        (1_000_000_000, "1s"), (60_000_000_000, "1m0s"), (3_723_500_000_000, "1h2m3.5s"), (-90_000_000_000, "-1m30s"),
    ])
    func durations(nanoseconds: Int64, expected: String) {
        #expect(GoDuration.string(nanoseconds: nanoseconds) == expected)
    }

    @Test func bytesAreBase64AndDecodeBack() throws {
        let body = WireWriter.object { secret in
            secret.message(1, Self.metadata("s"))
            secret.message(2) { $0.string(1, "a").bytes(2, Array("b".utf8)) }
            secret.message(2) { $0.string(1, "bin").bytes(2, [0, 255, 16]) }
            secret.string(3, "Opaque")
        }
        let json = try OrderedJSON(parsing: Array(try decode("v1", "Secret", body).utf8))
        #expect(json[path: ["data", "a"]] == .string("Yg=="))
        #expect(json[path: ["data", "bin"]] == .string("AP8Q"))
        #expect(json["type"] == .string("Opaque"))
    }

    @Test func embeddedStructsAreInlined() throws {
        let body = WireWriter.object { pod in
            pod.message(2) { spec in
                spec.message(1) { volume in
                    volume.string(1, "cache")
                    volume.message(2) { $0.message(2) { _ in } }
                }
                spec.message(2) { container in
                    container.string(1, "c")
                    container.message(7) { env in
                        env.string(1, "KEY")
                        env.message(3) { source in
                            source.message(3) { $0.message(1) { $0.string(1, "config") }.string(2, "key").varint(3, 0) }
                        }
                    }
                }
            }
        }
        #expect(try decode("v1", "Pod", body) == #"{"kind":"Pod","apiVersion":"v1","spec":{"volumes":[{"name":"cache","emptyDir":{}}],"#
            + #""containers":[{"name":"c","env":[{"name":"KEY","valueFrom":{"configMapKeyRef":{"name":"config","key":"key","optional":false}}}]}]}}"#)
    }

    @Test func unknownFieldsAreSkipped() throws {
        let plain = WireWriter.object { cm in
            cm.message(1, Self.metadata("c"))
            cm.entry(2, "a", "b")
        }
        let noisy = WireWriter()
        noisy.varint(99, 7)
        noisy.message(1, Self.metadata("c"))
        noisy.fixed32(98, 1)
        noisy.fixed64(97, 2)
        noisy.tag(96, 3) // a group, with a field inside
        noisy.varint(1, 5)
        noisy.tag(96, 4)
        noisy.entry(2, "a", "b")
        noisy.string(95, "ignored")
        #expect(try decode("v1", "ConfigMap", noisy.bytes) == decode("v1", "ConfigMap", plain))
    }

    @Test func aSingularMessageSentTwiceIsMerged() throws {
        let body = WireWriter.object { cm in
            cm.message(1) { $0.string(1, "c") }
            cm.message(1) { $0.entry(11, "app", "x") }
        }
        #expect(try decode("v1", "ConfigMap", body) == #"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c","labels":{"app":"x"}}}"#)
    }

    @Test func theURLsKindFillsAnEnvelopeWithoutTypeMeta() throws {
        let body = WireWriter.envelope(apiVersion: nil, kind: nil, WireWriter.object { $0.message(1) { $0.string(1, "n") } })
        let json = try KubernetesProtobuf.decodeObject(body, defaultAPIVersion: "v1", defaultKind: "Namespace")
        #expect(json.serialized() == #"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"n"}}"#)
    }

    @Test func truncatedBodiesFailWholeNeverPartly() throws {
        let object = WireWriter.object { cm in
            cm.message(1, Self.metadata("c", labels: [("a", "b")]))
            cm.entry(2, "key", "value")
        }
        let body = WireWriter.envelope(apiVersion: "v1", kind: "ConfigMap", object)
        let whole = try KubernetesProtobuf.decodeObject(body, defaultAPIVersion: "v1", defaultKind: "ConfigMap")
        // Protobuf cannot tell a body cut at a field boundary from a shorter one: the envelope may end
        // after its typeMeta (an object with no fields) or after raw (the empty trailing strings go).
        let typeMetaEnd = KubernetesProtobuf.magic.count + 2 + 2 + "v1".utf8.count + 2 + "ConfigMap".utf8.count
        let rawEnd = body.count - 4
        for length in 1..<body.count {
            let prefix = Array(body.prefix(length))
            if length == typeMetaEnd {
                #expect(try KubernetesProtobuf.decodeObject(prefix, defaultAPIVersion: "v1", defaultKind: "ConfigMap").serialized()
                    == #"{"kind":"ConfigMap","apiVersion":"v1"}"#)
            } else if length == rawEnd || length == rawEnd + 2 {
                #expect(try KubernetesProtobuf.decodeObject(prefix, defaultAPIVersion: "v1", defaultKind: "ConfigMap") == whole)
            } else {
                #expect(failure(prefix) != nil, "prefix of \(length) bytes")
            }
        }
        #expect(failure(Array(body.prefix(20))) == ProtobufDecodingError(stage: .envelope, reason: "unexpected EOF"))
        // An envelope that is whole around an object that is cut short.
        let cut = WireWriter.envelope(apiVersion: "v1", kind: "ConfigMap", Array(object.dropLast(3)))
        #expect(failure(cut) == ProtobufDecodingError(stage: .object(apiVersion: "v1", kind: "ConfigMap"), reason: "unexpected EOF"))
    }

    @Test func mangledBodiesNeverCrashTheDecoder() {
        let object = WireWriter.object { pod in
            pod.message(1, Self.metadata("p", labels: [("a", "b")]))
            pod.message(2) { spec in
                spec.message(2) { $0.string(1, "c").message(8) { $0.message(1) { $0.string(1, "cpu").message(2) { $0.string(1, "1") } } } }
                spec.message(14) { $0.varint(4, 300) }
            }
            pod.message(3) { $0.message(7) { $0.int(1, 1_136_214_245) } }
        }
        let body = WireWriter.envelope(apiVersion: "v1", kind: "Pod", object)
        // A fixed-seed generator, so a failure is the same failure on every run.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var decoded = 0
        for _ in 0..<3_000 {
            var mangled = body
            for _ in 0...next(4) {
                switch next(3) {
                case 0: mangled[4 + next(mangled.count - 4)] = UInt8(next(256))
                case 1: mangled.insert(UInt8(next(256)), at: 4 + next(mangled.count - 4))
                default: if mangled.count > 5 { mangled.remove(at: 4 + next(mangled.count - 4)) }
                }
            }
            if (try? KubernetesProtobuf.decodeObject(mangled, defaultAPIVersion: "v1", defaultKind: "Pod")) != nil { decoded += 1 }
        }
        // Some manglings still decode (a changed string byte); most must be refused.
        #expect(decoded > 0 && decoded < 3_000)
    }

    @Test func badBodiesGetTheApiserversWords() {
        #expect(failure([]) == ProtobufDecodingError(stage: .envelope, reason: "empty data"))
        #expect(failure(Array(#"{"kind":"ConfigMap"}"#.utf8))
            == ProtobufDecodingError(stage: .envelope, reason: "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"))
        #expect(failure(KubernetesProtobuf.magic) == ProtobufDecodingError(stage: .envelope, reason: "empty body"))
        #expect(failure(WireWriter.envelope(apiVersion: "v1", kind: "Widget", []))
            == ProtobufDecodingError(stage: .object(apiVersion: "v1", kind: "Widget"),
                                     reason: #"no kind "Widget" is registered for version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30""#))
        let wrongWireType = WireWriter.object { $0.message(1) { $0.varint(1, 3) } }
        #expect(failure(WireWriter.envelope(apiVersion: "v1", kind: "ConfigMap", wrongWireType))
            == ProtobufDecodingError(stage: .object(apiVersion: "v1", kind: "ConfigMap"), reason: "proto: wrong wireType = 0 for field Name"))
        let fieldZero = WireWriter.object { $0.varint(0, 1) }
        #expect(failure(WireWriter.envelope(apiVersion: "v1", kind: "ConfigMap", fieldZero))?.reason == "proto: ConfigMap: illegal tag 0 (wire type 0)")
        let overflow = WireWriter()
        overflow.tag(4, 0)
        overflow.bytes += Array(repeating: 0xFF, count: 11)
        #expect(failure(WireWriter.envelope(apiVersion: "v1", kind: "ConfigMap", overflow.bytes))?.reason == "proto: integer overflow")
    }

    @Test func everyServedKindHasASchema() {
        for type in ResourceCatalog.all {
            #expect(KubernetesProtobuf.hasSchema(apiVersion: type.apiVersion, kind: type.kind), "\(type.apiVersion) \(type.kind)")
            for sub in type.subresources where sub.verbs.contains("create") || sub.verbs.contains("update") {
                // exec and portforward take their options from the query, never a body.
                guard !sub.kind.hasSuffix("Options") else { continue }
                let apiVersion = sub.group.map { "\($0)/\(sub.version ?? "v1")" } ?? type.apiVersion
                #expect(KubernetesProtobuf.hasSchema(apiVersion: apiVersion, kind: sub.kind), "\(type.plural)/\(sub.name): \(apiVersion) \(sub.kind)")
            }
        }
        #expect(KubernetesProtobuf.hasSchema(apiVersion: "apps/v1", kind: "DeleteOptions"))
    }

    @Test func everyMessageTheSchemaNamesIsInIt() {
        func check(_ type: ProtoFieldType, in message: String) {
            switch type {
            case .message(let name): #expect(ProtobufSchema.message(named: name) != nil, "\(message) names \(name)")
            case .map(let key, let value):
                check(key, in: message)
                check(value, in: message)
            default: break
            }
        }
        for message in ProtobufSchema.generatedMessages {
            for field in message.fields { check(field.type, in: message.name) }
        }
        for kind in ProtobufSchema.generatedKinds { #expect(ProtobufSchema.message(named: kind.message) != nil) }
    }
}
