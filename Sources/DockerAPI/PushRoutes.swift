import Foundation
import HTTPServer
import Images
import NIOCore
import Platform

extension DockerAPI {
    /// `POST /images/{name}/push?tag=`: the name comes fully qualified (`docker.io/luksa/kubia`).
    /// A missing local image is a 404 before streaming; the rest is docker push's JSON stream.
    func push(_ name: String, _ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let tag = request.query["tag"].flatMap { $0.isEmpty ? nil : $0 } ?? ImageReference.defaultTag
        let parsed = try ImageReference.parseNormalized(name)
        let reference = parsed.tag == nil && parsed.digest == nil ? parsed.withTag(tag) : parsed
        let image = try images.imageToPush(reference)
        let credential = Self.registryCredential(header: request.headers.first(name: "X-Registry-Auth"), domain: reference.domain, logger: logger)
        let images = self.images
        let logger = self.logger
        return DockerResponse.stream { out in
            let (events, continuation) = AsyncStream<PushEvent>.makeStream()
            async let outcome: Error? = {
                defer { continuation.finish() }
                do {
                    try await images.push(image, as: reference, credential: credential) { continuation.yield($0) }
                    return nil
                } catch {
                    return error
                }
            }()
            for await event in events {
                switch event {
                case .status(let text):
                    try await out.status(text)
                case .layer(let id, let status):
                    try await out.send(.object([("status", .string(status)), ("progressDetail", .object([])), ("id", .string(id))]))
                case .pushing(let id, let current, let total):
                    try await out.send(.object([
                        ("status", .string("Pushing")),
                        ("progressDetail", .object([("current", .int(current)), ("total", .int(total))])),
                        ("progress", .string(ProgressBar.render(current: current, total: total))), ("id", .string(id)),
                    ]))
                case .pushed(let tag, let digest, let size):
                    try await out.status("\(tag): digest: \(digest) size: \(size)")
                    try await out.send(.object([
                        ("progressDetail", .object([])),
                        ("aux", .object([("Tag", .string(tag)), ("Digest", .string(digest.description)), ("Size", .int(Int64(size)))])),
                    ]))
                }
            }
            if let error = await outcome {
                logger.info("push failed", metadata: ["image": "\(reference)", "error": "\(error)"])
                try await out.error("\(error)")
            }
        }
    }

    /// `POST /auth` (docker login): checks the credential against the registry; nothing is stored
    /// by the daemon (the CLI keeps it in its config.json).
    func login(_ request: HTTPServerRequest) async throws -> HTTPServerResponse {
        guard let object = try? JSONSerialization.jsonObject(with: Data(request.bodyBytes)) as? [String: Any] else {
            throw OnekubeError(.invalidArgument, "invalid login request body")
        }
        let username = object["username"] as? String ?? ""
        let password = object["password"] as? String ?? ""
        guard !username.isEmpty else { throw OnekubeError(.invalidArgument, "username is required") }
        let domain = Self.registryDomain(serverAddress: object["serveraddress"] as? String ?? "")
        try await images.login(domain: domain, credential: RegistryCredential(username: username, password: password))
        return DockerResponse.json(.object([("Status", .string("Login Succeeded")), ("IdentityToken", .string(""))]))
    }

    /// `https://index.docker.io/v1/` → `docker.io`; `http://127.0.0.1:5000/v2/` → `127.0.0.1:5000`.
    static func registryDomain(serverAddress: String) -> String {
        var host = Substring(serverAddress)
        if let range = host.range(of: "://") { host = host[range.upperBound...] }
        if let slash = host.firstIndex(of: "/") { host = host[..<slash] }
        if host.isEmpty || host == "index.docker.io" || host == "registry-1.docker.io" { return ImageReference.defaultDomain }
        return String(host)
    }
}
