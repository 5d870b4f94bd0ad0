import Daemon
import Foundation
import Glibc
import HTTPClient
import Images
import Platform

/// A failure the docker mode reports the way the docker CLI does, with its exit code.
struct DockerCLIError: Error {
    var message: String
    var exitCode: Int32 = 1
}

/// The built-in docker mode's client of the Engine API: HTTP over the daemon's unix socket
/// (or `DOCKER_HOST=unix://…`), through libcurl.
struct DockerClient: Sendable {
    let socketPath: String
    let http = CurlHTTPClient.shared
    static let apiPrefix = "/v1.50"

    /// `DOCKER_HOST` wins, as with docker; otherwise the socket in onekube's data directory.
    static func fromEnvironment(dataDirectory: String?) -> DockerClient {
        let environment = ProcessInfo.processInfo.environment
        if dataDirectory == nil, let host = environment["DOCKER_HOST"], host.hasPrefix("unix://") {
            return DockerClient(socketPath: String(host.dropFirst("unix://".count)))
        }
        let data = dataDirectory ?? DataDirectory.resolve(nil)
        return DockerClient(socketPath: DaemonConfiguration(dataDirectory: data).dockerSocketPath)
    }

    static func encodeQuery(_ items: [(String, String)]) -> String {
        items.map { "\(GoURL.queryEscape($0.0))=\(GoURL.queryEscape($0.1))" }.joined(separator: "&")
    }

    /// Image names keep their `/` and `:` in paths, as the docker CLI sends them.
    static func pathEncode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#%"))) ?? s
    }

    func request(_ method: String, _ path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
                 body: [UInt8]? = nil) throws -> HTTPClientResponse {
        let collector = Collector()
        let head = try perform(method, path, query: query, headers: headers, body: body) { collector.bytes.append(contentsOf: $0) }
        return HTTPClientResponse(head: head, body: collector.bytes)
    }

    /// Streams the body to `onChunk` as it arrives (progress streams).
    func perform(_ method: String, _ path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
                 body: [UInt8]? = nil, contentType: String = "application/json",
                 onHead: (HTTPClientResponseHead) throws -> Void = { _ in },
                 onChunk: (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPClientResponseHead {
        try checkSocket()
        var url = "http://localhost\(Self.apiPrefix)\(path)"
        if !query.isEmpty { url += "?" + Self.encodeQuery(query) }
        var fields = HTTPHeaderFields(headers)
        if body != nil { fields.append("Content-Type", contentType) }
        let request = HTTPClientRequest(method: method, url: url, headers: fields, body: body,
                                        unixSocketPath: socketPath, stallTimeout: nil, connectTimeout: 10)
        do {
            return try http.performBlocking(request, onHead: onHead, onBody: onChunk)
        } catch let error as HTTPTransportError {
            if error.curlCode == 7 { throw notRunning() }
            throw DockerCLIError(message: "error during connect: \(error)")
        }
    }

    private func checkSocket() throws {
        guard FileSystem.exists(socketPath) else { throw notRunning() }
        if access(socketPath, R_OK | W_OK) != 0 && errno == EACCES {
            throw DockerCLIError(message: "permission denied while trying to connect to the onekube docker API socket at unix://\(socketPath): are you root? (try: sudo)")
        }
    }

    private func notRunning() -> DockerCLIError {
        DockerCLIError(message: "onekube is not running (start it with: sudo onekube start)")
    }

    /// `Error response from daemon: <message>` from an error answer.
    static func daemonError(_ response: HTTPClientResponse) -> DockerCLIError {
        DockerCLIError(message: "Error response from daemon: " + errorMessage(response))
    }

    static func errorMessage(_ response: HTTPClientResponse) -> String {
        errorMessage(status: response.status, body: response.body)
    }

    static func errorMessage(status: Int, body: [UInt8]) -> String {
        if let json = try? OrderedJSON(parsing: body), let message = json["message"]?.stringValue {
            return message.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "HTTP \(status)" : text
    }

    /// `X-Registry-Auth` for a registry domain from the user's docker config (`e30=` when none).
    static func registryAuthHeader(domain: String) -> String {
        guard let config = try? DockerConfigFile.load(path: DockerConfigFile.defaultPath()), let credential = config.credential(forDomain: domain) else {
            return "e30="
        }
        let json = OrderedJSON.object([
            ("username", .string(credential.username)), ("password", .string(credential.password)),
            ("serveraddress", .string(domain == "docker.io" ? DockerConfigFile.dockerHubKey : domain)),
        ]).serialized()
        return Data(json.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }
}

private final class Collector {
    var bytes: [UInt8] = []
}
