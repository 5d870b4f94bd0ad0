import Daemon
import Foundation
import HTTPClient
import Platform

/// The CLI's own requests to the local daemon's Kubernetes API (`onekube node …`): the port,
/// token and CA come from the data directory, so no kubeconfig is needed.
struct ClusterClient {
    let baseURL: String
    let token: String
    let caPath: String

    init(configuration: DaemonConfiguration) throws {
        guard let port = try? FileSystem.readString(configuration.apiPortRecordPath).trimmingCharacters(in: .whitespacesAndNewlines),
              case .running = PidFile.status(path: configuration.pidFilePath) else {
            throw OnekubeError(.notRunning, "onekube is not running (start it with: sudo onekube start)")
        }
        baseURL = "https://127.0.0.1:\(port)"
        token = try FileSystem.readString(configuration.apiTokenPath).trimmingCharacters(in: .whitespacesAndNewlines)
        caPath = configuration.certificates.caCertificatePath
    }

    func send(_ method: String, _ path: String, body: OrderedJSON? = nil,
              contentType: String = "application/json") throws -> (status: Int, body: OrderedJSON) {
        var headers = HTTPHeaderFields([("Authorization", "Bearer \(token)")])
        if body != nil { headers.append("Content-Type", contentType) }
        var request = HTTPClientRequest(method: method, url: baseURL + path, headers: headers, body: body?.serializedBytes())
        request.caCertificatePath = caPath
        let response = try CurlHTTPClient.shared.sendBlocking(request)
        return (response.status, (try? OrderedJSON(parsing: response.body)) ?? .null)
    }

    /// The Status message of a failed answer.
    static func message(_ body: OrderedJSON) -> String {
        body["message"]?.stringValue ?? "unexpected answer from the API"
    }
}
