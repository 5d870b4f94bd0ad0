import Foundation
import Platform
import Yams

/// Where kubectl mode sends its requests: the kubeconfig's current (or `--context`) context,
/// resolved as kubectl resolves it — `--kubeconfig`, else every file of `$KUBECONFIG` (the first
/// one to set a field wins), else `~/.kube/config`.
struct KubeconfigContext {
    var server: String
    var token: String?
    /// A PEM file with the cluster's CA (written from certificate-authority-data when needed).
    var caPath: String?
    var insecure: Bool
    var namespace: String

    static func resolve(kubeconfig flag: String?, context requested: String?, namespace override: String?) throws -> KubeconfigContext {
        let paths: [String]
        if let flag, !flag.isEmpty {
            paths = [flag]
        } else if let env = ProcessInfo.processInfo.environment["KUBECONFIG"], !env.isEmpty {
            paths = env.split(separator: ":").map(String.init)
        } else {
            paths = [Kubeconfig.path(flag: nil)]
        }
        var merged: [String: Any] = [:]
        var lists: [String: [[String: Any]]] = [:]
        for path in paths where FileSystem.exists(path) {
            let config = try Kubeconfig.load(path)
            for (key, value) in config {
                if let entries = value as? [[String: Any]] {
                    // Named entries: the first file that names one wins.
                    let known = Set((lists[key] ?? []).compactMap { $0["name"] as? String })
                    lists[key, default: []] += entries.filter { !known.contains(($0["name"] as? String) ?? "") }
                } else if merged[key] == nil {
                    merged[key] = value
                }
            }
        }
        guard let contextName = requested ?? merged["current-context"] as? String, !contextName.isEmpty else {
            throw KubectlError.message("error: current-context is not set")
        }
        func entry(_ list: String, _ name: String, _ field: String) -> [String: Any]? {
            (lists[list] ?? []).first { ($0["name"] as? String) == name }?[field] as? [String: Any]
        }
        guard let context = entry("contexts", contextName, "context") else {
            throw KubectlError.message("error: context \"\(contextName)\" does not exist")
        }
        let clusterName = context["cluster"] as? String ?? ""
        guard let cluster = entry("clusters", clusterName, "cluster"), let server = cluster["server"] as? String else {
            throw KubectlError.message("error: cluster \"\(clusterName)\" does not exist")
        }
        let user = entry("users", context["user"] as? String ?? "", "user") ?? [:]
        var caPath = cluster["certificate-authority"] as? String
        if caPath == nil, let data = cluster["certificate-authority-data"] as? String, let pem = Data(base64Encoded: data) {
            caPath = try Self.cachedCA(pem)
        }
        var token = user["token"] as? String
        if token == nil, let file = user["tokenFile"] as? String {
            token = try? FileSystem.readString(file).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return KubeconfigContext(server: server.hasSuffix("/") ? String(server.dropLast()) : server, token: token, caPath: caPath,
                                 insecure: cluster["insecure-skip-tls-verify"] as? Bool ?? false,
                                 namespace: override ?? (context["namespace"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "default")
    }

    /// libcurl wants the CA as a file: one per distinct certificate, under the temporary directory.
    static func cachedCA(_ pem: Data) throws -> String {
        let path = NSTemporaryDirectory() + "onekube-kubectl-ca-" + String(SHA256Hasher.hex([UInt8](pem)).prefix(16)) + ".crt"
        if !FileSystem.exists(path) { try FileSystem.writeAtomically(path, [UInt8](pem)) }
        return path
    }
}

/// A kubectl-mode failure, printed as is on stderr (exit 1).
enum KubectlError: Error {
    case message(String)
}
