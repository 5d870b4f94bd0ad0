import Foundation
import Platform

/// The `{"errors":[{"code","message","detail"}]}` body every registry error carries.
struct RegistryErrorBody: Decodable {
    struct Entry: Decodable {
        var code: String?
        var message: String?
    }
    var errors: [Entry]?

    /// Parses a body into docker's `code: message` wording (`manifest unknown: manifest unknown`).
    static func summary(_ body: [UInt8]) -> (code: String, text: String)? {
        guard let parsed = try? JSONDecoder().decode(RegistryErrorBody.self, from: Data(body)),
              let first = parsed.errors?.first, let code = first.code else { return nil }
        let words = code.lowercased().replacingOccurrences(of: "_", with: " ")
        let message = first.message ?? ""
        return (code, message.isEmpty ? words : "\(words): \(message)")
    }
}

/// Turns a failed registry response into the error a docker user would read.
enum RegistryFailure {
    static func forManifest(
        status: Int, body: [UInt8], reference: ImageReference
    ) -> OnekubeError {
        let summary = RegistryErrorBody.summary(body)
        let familiarRepo = reference.familiarName
        let familiarRef = reference.familiarString
        switch (status, summary?.code) {
        case (429, _), (_, "TOOMANYREQUESTS"):
            return tooManyRequests(summary?.text)
        case (401, _), (403, _), (_, "DENIED"), (_, "UNAUTHORIZED"):
            return OnekubeError(.denied, "pull access denied for \(familiarRepo), repository does not exist or may require 'docker login'",
                                cause: "denied: requested access to the resource is denied")
        case (_, "MANIFEST_UNKNOWN"):
            return OnekubeError(.notFound, "manifest for \(familiarRef) not found", cause: summary?.text)
        case (_, "NAME_UNKNOWN"):
            return OnekubeError(.notFound, "repository \(familiarRepo) not found", cause: summary?.text)
        case (404, _):
            return OnekubeError(.notFound, "manifest for \(familiarRef) not found", cause: "manifest unknown: manifest unknown")
        default:
            return unexpected(status: status, summary: summary?.text)
        }
    }

    static func forBlob(status: Int, body: [UInt8], digest: Digest) -> OnekubeError {
        let summary = RegistryErrorBody.summary(body)
        if status == 429 || summary?.code == "TOOMANYREQUESTS" { return tooManyRequests(summary?.text) }
        if status == 404 || summary?.code == "BLOB_UNKNOWN" {
            return OnekubeError(.notFound, "blob \(digest) not found", cause: summary?.text ?? "blob unknown: blob unknown to registry")
        }
        return unexpected(status: status, summary: summary?.text)
    }

    static func tooManyRequests(_ text: String?) -> OnekubeError {
        OnekubeError(
            .tooManyRequests,
            (text ?? "toomanyrequests: too many requests")
                + " (log in with 'onekube docker login' to raise the limit, or start onekube with --registry-mirror URL)")
    }

    static func unexpected(status: Int, summary: String?) -> OnekubeError {
        let reasons = [500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
                       400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"]
        let reason = reasons[status] ?? ""
        let code: OnekubeError.Code = status >= 500 ? .unavailable : .internalError
        return OnekubeError(code, summary ?? "received unexpected HTTP status: \(status) \(reason)")
    }
}
