import Foundation
import Glibc
import HTTPClient
import Platform
import TestSupport
import Testing

/// A client of the API that speaks HTTP directly (no kubectl), for hostile and concurrent traffic.
struct RawAPI: Sendable {
    let base: String
    let token: String?
    let ca: String

    init(_ onekube: OnekubeInstance, token: String? = nil) {
        base = onekube.apiServerURL
        self.token = token ?? onekube.apiToken
        ca = onekube.caCertificatePath
    }

    func send(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
              headers extra: [(String, String)] = []) throws -> HTTPClientResponse {
        var headers = HTTPHeaderFields(extra)
        if let token { headers.append("Authorization", "Bearer \(token)") }
        if body != nil { headers.append("Content-Type", contentType) }
        var request = HTTPClientRequest(method: method, url: base + path, headers: headers, body: body, stallTimeout: 30, connectTimeout: 5)
        request.caCertificatePath = ca
        return try CurlHTTPClient.shared.sendBlocking(request)
    }

    func send(_ method: String, _ path: String, json: String, contentType: String = "application/json") throws -> HTTPClientResponse {
        try send(method, path, body: Array(json.utf8), contentType: contentType)
    }
}

@Suite("The API under hostile and concurrent traffic")
struct APIRobustnessTests {
    static let pods = "/api/v1/namespaces/default/pods"

    /// 1,000 malformed or hostile requests: each a 4xx Status, the daemon up and the store intact.
    @Test func thousandBadRequestsGetStatusesAndChangeNothing() throws {
        let onekube = try OnekubeInstance()
        let api = RawAPI(onekube)
        // Bound to a node no agent runs, so that nothing but the requests below could change it.
        let keeper = try api.send("POST", Self.pods, json: #"{"metadata":{"name":"keeper"},"spec":{"nodeName":"elsewhere","containers":[{"name":"c","image":"busybox"}]}}"#)
        #expect(keeper.status == 201)
        let before = try api.send("GET", Self.pods + "/keeper").body

        var cases: [(String, String, [UInt8]?, String, RawAPI)] = []
        let bodies = ["{", "[]", "\"pod\"", "nul", "{\"metadata\":", String(repeating: "[", count: 5000), "{\"a\":1}garbage",
                      #"{"metadata":"x"}"#, #"{"metadata":{"name":5}}"#, #"{"metadata":{"name":"x","labels":{"a":1}}}"#,
                      #"{"metadata":{"name":"x"},"spec":{"containers":"c"}}"#, #"{"metadata":{"name":"x"},"spec":{"containers":[{"name":1}]}}"#,
                      #"{"metadata":{"name":"Bad_Name"},"spec":{"containers":[{"name":"c","image":"i"}]}}"#,
                      #"{"metadata":{"name":"../etc"},"spec":{"containers":[{"name":"c","image":"i"}]}}"#,
                      #"{"metadata":{"name":"x"},"spec":{}}"#, #"{"kind":"Service","metadata":{"name":"x"}}"#,
                      #"{"apiVersion":"apps/v1","metadata":{"name":"x"}}"#, #"{"metadata":{"name":"x","namespace":"other"},"spec":{"containers":[{"name":"c","image":"i"}]}}"#,
                      #"{"metadata":{"name":"x"},"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":70000}]}]}}"#,
                      #"{"metadata":{"name":"x"},"spec":{"containers":[{"name":"c","image":"i","ports":"p"}]}}"#]
        for body in bodies { cases.append(("POST", Self.pods, Array(body.utf8), "application/json", api)) }
        let names = ["Bad_Name", String(repeating: "a", count: 300), "..", "x%2Fy", "-x", "x-", "%00", "a..b"]
        for name in names {
            cases.append(("POST", Self.pods, Array(#"{"metadata":{"name":"\#(name)"},"spec":{"containers":[{"name":"c","image":"i"}]}}"#.utf8), "application/json", api))
        }
        let paths = ["/api/v1/namespaces/default/pods/../../secrets", "/api/v1/namespaces/%2e%2e/pods/x", "/api/v2/pods", "/apis/nope/v1/things",
                     "/api/v1/namespaces/default/pods/keeper/nosuch", "/api/v1/namespaces/default/pods/a/b/c/d", "/api/v1/nodes/onekube/exec",
                     "/api/v1/foos", "/apis/apps/v1/namespaces/default/nothing", "/openapi/v3/apis/nope/v9"]
        for path in paths { cases.append(("GET", path, nil, "", api)) }
        for selector in ["labelSelector=a%20in%20b", "labelSelector=%21%21x", "fieldSelector=spec.bogus%3Dx", "fieldSelector=nonsense",
                         "watch=true&resourceVersion=abc", "continue=%25%25%25"] {
            cases.append(("GET", Self.pods + "?" + selector, nil, "", api))
        }
        for (type, body) in [("application/merge-patch+json", "[1,2]x"), ("application/json-patch+json", #"[{"op":"remove","path":"/nope"}]"#),
                             ("application/json-patch+json", #"[{"op":"explode","path":"/a"}]"#), ("text/plain", "hello"),
                             ("application/strategic-merge-patch+json", "{")] {
            cases.append(("PATCH", Self.pods + "/keeper", Array(body.utf8), type, api))
        }
        cases.append(("PUT", Self.pods, Array("{}".utf8), "application/json", api))
        cases.append(("POST", Self.pods, [UInt8](repeating: 0x20, count: 4 << 20), "application/json", api))
        let anonymous = RawAPI(onekube, token: "")
        let wrong = RawAPI(onekube, token: String(repeating: "0", count: 64))
        cases.append(("GET", Self.pods, nil, "", anonymous))
        cases.append(("DELETE", Self.pods + "/keeper", nil, "", wrong))

        var sent = 0
        var failures: [String] = []
        while sent < 1000 {
            for (method, path, body, type, client) in cases where sent < 1000 {
                sent += 1
                let response = try client.send(method, path, body: body, contentType: type.isEmpty ? "application/json" : type)
                let statusObject = (try? OrderedJSON(parsing: response.body))?["kind"]?.stringValue
                if !(400..<500).contains(response.status) || statusObject != "Status" {
                    failures.append("\(method) \(path.prefix(80)) → \(response.status) \(String(decoding: response.body.prefix(200), as: UTF8.self))")
                }
            }
        }
        #expect(failures.isEmpty, "\(Set(failures).sorted().joined(separator: "\n"))")
        #expect(try onekube.onekube(["status"]).status == 0, "the daemon went down: \(onekube.daemonLog)")
        #expect(try api.send("GET", Self.pods + "/keeper").body == before)
        let list = try OrderedJSON(parsing: try api.send("GET", Self.pods).body)
        #expect(list["items"]?.arrayValue?.map { $0[path: ["metadata", "name"]]?.stringValue } == ["keeper"])
    }

    /// kill -9 during 200 concurrent creates: every create that got 201 is there after a restart.
    @Test func acknowledgedCreatesSurviveKillDashNine() throws {
        let onekube = try OnekubeInstance()
        let api = RawAPI(onekube)
        let pid = try #require(onekube.pid)
        let acknowledged = Locked<[String]>([])
        let done = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in 0..<25 {
                let name = "crash-\(worker)-\(i)"
                if worker == 0 && i == 12 { kill(pid, SIGKILL) }
                let body = #"{"metadata":{"name":"\#(name)"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"#
                if let response = try? api.send("POST", Self.pods, json: body), response.status == 201 {
                    acknowledged.withLock { $0.append(name) }
                }
                done.withLock { $0 += 1 }
            }
        }
        #expect(done.withLock { $0 } == 200)
        try onekube.start()
        let stored = Set((try OrderedJSON(parsing: try api.send("GET", Self.pods).body))["items"]?.arrayValue?
            .compactMap { $0[path: ["metadata", "name"]]?.stringValue } ?? [])
        let acked = acknowledged.withLock { $0 }
        #expect(!acked.isEmpty)
        #expect(Set(acked).isSubset(of: stored), "lost: \(Set(acked).subtracting(stored).sorted())")
    }
}

/// A value shared between threads of a test.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
