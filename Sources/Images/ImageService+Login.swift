import Foundation
import HTTPClient
import Platform

extension ImageService {
    /// `docker login`'s check: the credential must be accepted by the registry's `/v2/` (Basic), or
    /// earn a token from its token server (Bearer). A registry without auth accepts anything.
    public func login(domain: String, credential: RegistryCredential) async throws {
        let endpoint = domain == ImageReference.defaultDomain
            ? RegistryEndpoint(baseURL: "https://registry-1.docker.io", isMirror: false)
            : puller.registry.endpoints(for: domain).first ?? RegistryEndpoint(baseURL: "https://\(domain)", isMirror: false)
        let url = endpoint.baseURL + "/v2/"
        let http = puller.http
        let first = try await http.send(HTTPClientRequest(url: url))
        if first.status == 200 { return }
        guard first.status == 401 else {
            throw OnekubeError(.unavailable, "login attempt to \(url) failed with status: \(first.status)")
        }
        let challenges = AuthChallenge.parse(first.headers.values("WWW-Authenticate").joined(separator: ", "))
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
            _ = try await puller.tokens.bearerAuthorization(challenge: bearer, scope: "", credential: credential, http: http, refresh: true)
            return
        }
        var headers = HTTPHeaderFields()
        headers.append("Authorization", credential.basicAuthorization)
        let answer = try await http.send(HTTPClientRequest(url: url, headers: headers))
        guard answer.status == 200 else {
            throw OnekubeError(.unauthorized, "login attempt to \(url) failed with status: \(answer.status) Unauthorized")
        }
    }
}

extension DockerConfigFile {
    /// Stores `auths[key].auth` = base64(user:password) in the file, keeping everything else in it.
    public static func store(_ credential: RegistryCredential, key: String, path: String) throws {
        var object = try rawObject(path)
        var auths = object["auths"] as? [String: Any] ?? [:]
        auths[key] = ["auth": Data("\(credential.username):\(credential.password)".utf8).base64EncodedString()]
        object["auths"] = auths
        try write(object, path: path)
    }

    /// Removes the entries for a registry; false when there were none.
    public static func remove(keys: [String], path: String) throws -> Bool {
        var object = try rawObject(path)
        var auths = object["auths"] as? [String: Any] ?? [:]
        let present = keys.filter { auths[$0] != nil }
        guard !present.isEmpty else { return false }
        for key in present { auths.removeValue(forKey: key) }
        object["auths"] = auths
        try write(object, path: path)
        return true
    }

    static func rawObject(_ path: String) throws -> [String: Any] {
        guard FileSystem.exists(path) else { return [:] }
        guard let object = try JSONSerialization.jsonObject(with: Data(try FileSystem.readFile(path))) as? [String: Any] else {
            throw OnekubeError(.invalidArgument, "loading config file \(path): invalid JSON")
        }
        return object
    }

    static func write(_ object: [String: Any], path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileSystem.createDirectory(directory, mode: 0o700)
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try FileSystem.writeAtomically(path, Array(data) + [10], mode: 0o600)
    }
}
