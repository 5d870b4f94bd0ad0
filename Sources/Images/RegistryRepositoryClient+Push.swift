import Foundation
import Glibc
import HTTPClient
import Platform

/// The upload side of the distribution API: blob existence, cross-repository mounts, chunked
/// uploads (POST, PATCH…, PUT), manifest PUT. Every request asks for the push scope.
extension RegistryRepositoryClient {
    var pushScope: String { "repository:\(repository):pull,push" }

    func pushRequest(_ method: String, _ url: String, headers: HTTPHeaderFields = HTTPHeaderFields(),
                     body: [UInt8]? = nil, scope: String? = nil) async throws -> (HTTPClientResponseHead, ResponseCapture) {
        let capture = ResponseCapture(limit: 1 << 20)
        let head = try await send(HTTPClientRequest(method: method, url: url, headers: headers, body: body), capture: capture,
                                  scope: scope ?? pushScope)
        if head.status == 401 || head.status == 403 {
            throw OnekubeError(.denied, "denied: requested access to the resource is denied")
        }
        return (head, capture)
    }

    public func blobExists(_ digest: Digest) async throws -> Bool {
        let (head, _) = try await pushRequest("HEAD", "\(endpoint.baseURL)/v2/\(repository)/blobs/\(digest)")
        return head.status == 200
    }

    /// Asks the registry to link a blob another repository of it holds; false when it would rather
    /// have the upload (it then opened one, which is left to expire).
    public func mountBlob(_ digest: Digest, from source: String) async throws -> Bool {
        let url = "\(endpoint.baseURL)/v2/\(repository)/blobs/uploads/?mount=\(digest)&from=\(source)"
        let (head, _) = try await pushRequest("POST", url, scope: "\(pushScope) repository:\(source):pull")
        return head.status == 201
    }

    /// Uploads a blob from a file in chunks, reporting the bytes sent.
    public func uploadBlob(path: String, digest: Digest, size: Int64, chunkSize: Int = 32 << 20,
                           progress: (Int64) -> Void) async throws {
        let (started, startedBody) = try await pushRequest("POST", "\(endpoint.baseURL)/v2/\(repository)/blobs/uploads/")
        guard started.status == 202, var location = started.headers["Location"]?.trimmingCharacters(in: .whitespacesAndNewlines) else {
            throw RegistryFailure.forBlob(status: started.status, body: startedBody.errorBody, digest: digest)
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        defer { close(fd) }
        var offset: Int64 = 0
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while offset < size {
            var filled = 0
            while filled < chunk.count {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress.map { $0 + filled }, $0.count - filled) }
                if n < 0 { if errno == EINTR { continue }; throw SystemError("read", path: path) }
                if n == 0 { break }
                filled += n
            }
            guard filled > 0 else { throw OnekubeError(.internalError, "\(path) is shorter than its recorded size \(size)") }
            var headers = HTTPHeaderFields()
            headers.append("Content-Type", "application/octet-stream")
            headers.append("Content-Range", "\(offset)-\(offset + Int64(filled) - 1)")
            let (patched, patchedBody) = try await pushRequest("PATCH", absolute(location), headers: headers, body: filled == chunk.count ? chunk : Array(chunk[0..<filled]))
            guard patched.status == 202, let next = patched.headers["Location"]?.trimmingCharacters(in: .whitespacesAndNewlines) else {
                throw RegistryFailure.forBlob(status: patched.status, body: patchedBody.errorBody, digest: digest)
            }
            location = next
            offset += Int64(filled)
            progress(offset)
        }
        let separator = location.contains("?") ? "&" : "?"
        let (finished, finishedBody) = try await pushRequest("PUT", absolute(location) + separator + "digest=\(digest)", body: [])
        guard finished.status == 201 else {
            throw RegistryFailure.forBlob(status: finished.status, body: finishedBody.errorBody, digest: digest)
        }
    }

    /// PUT of the manifest bytes under `tag`; the registry's digest must be the bytes' own.
    public func putManifest(_ bytes: [UInt8], mediaType: String, tag: String) async throws -> Digest {
        var headers = HTTPHeaderFields()
        headers.append("Content-Type", mediaType)
        let (head, capture) = try await pushRequest("PUT", "\(endpoint.baseURL)/v2/\(repository)/manifests/\(tag)", headers: headers, body: bytes)
        guard head.status == 201 else {
            throw RegistryFailure.unexpected(status: head.status, summary: RegistryErrorBody.summary(capture.errorBody)?.text)
        }
        let digest = Digest.sha256(of: bytes)
        if let claimed = head.headers["Docker-Content-Digest"].flatMap({ try? Digest(parsing: $0) }), claimed != digest {
            throw OnekubeError(.digestMismatch, "registry stored manifest \(claimed), pushed \(digest)")
        }
        return digest
    }

    /// A Location header may be relative to the registry.
    func absolute(_ location: String) -> String {
        location.hasPrefix("http://") || location.hasPrefix("https://") ? location : endpoint.baseURL + location
    }
}
