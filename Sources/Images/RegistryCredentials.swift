import Foundation
import Platform

/// A username and password (or token) for one registry.
public struct RegistryCredential: Sendable, Equatable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The value of a Basic `Authorization` header.
    public var basicAuthorization: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}

/// Reads credentials the way the docker CLI stores them: `$DOCKER_CONFIG/config.json` or
/// `~/.docker/config.json`, `auths.<key>.auth` = base64(user:password).
public struct DockerConfigFile: Sendable {
    /// The historical key under which docker keeps Docker Hub's credentials.
    public static let dockerHubKey = "https://index.docker.io/v1/"

    public var auths: [String: RegistryCredential]

    public init(auths: [String: RegistryCredential] = [:]) {
        self.auths = auths
    }

    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = environment["DOCKER_CONFIG"], !dir.isEmpty { return dir + "/config.json" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.docker/config.json"
    }

    /// A missing file means no credentials; a malformed one is an error that names the path.
    public static func load(path: String) throws -> DockerConfigFile {
        guard FileSystem.exists(path) else { return DockerConfigFile() }
        let bytes = try FileSystem.readFile(path)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw OnekubeError(.invalidArgument, "loading config file \(path): invalid JSON")
        }
        var auths: [String: RegistryCredential] = [:]
        for (key, value) in (object["auths"] as? [String: Any]) ?? [:] {
            guard let entry = value as? [String: Any] else { continue }
            if let encoded = entry["auth"] as? String, !encoded.isEmpty,
               let decoded = Data(base64Encoded: encoded).map({ String(decoding: $0, as: UTF8.self) }),
               let colon = decoded.firstIndex(of: ":"), colon != decoded.startIndex {
                auths[key] = RegistryCredential(
                    username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
            } else if let user = entry["username"] as? String, let password = entry["password"] as? String, !user.isEmpty {
                auths[key] = RegistryCredential(username: user, password: password)
            }
        }
        return DockerConfigFile(auths: auths)
    }

    /// The credential for a registry domain as a reference names it (`docker.io`, `localhost:5000`).
    public func credential(forDomain domain: String) -> RegistryCredential? {
        for key in Self.keys(forDomain: domain) {
            if let credential = auths[key] { return credential }
        }
        // Keys may carry a scheme or a path: compare the host part.
        for (key, credential) in auths where Self.host(ofKey: key) == domain { return credential }
        return nil
    }

    public static func keys(forDomain domain: String) -> [String] {
        if domain == ImageReference.defaultDomain || domain == ImageReference.legacyDefaultDomain {
            return [dockerHubKey, "index.docker.io", "docker.io", "registry-1.docker.io"]
        }
        return [domain, "https://\(domain)", "http://\(domain)"]
    }

    static func host(ofKey key: String) -> String {
        var s = Substring(key)
        if let range = s.range(of: "://") { s = s[range.upperBound...] }
        if let slash = s.firstIndex(of: "/") { s = s[..<slash] }
        return String(s)
    }
}
