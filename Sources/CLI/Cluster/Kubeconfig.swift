import Foundation
import Glibc
import Platform
import Yams

/// The user's kubeconfig: onekube adds (or refreshes) a cluster, user and context named
/// `onekube` and makes it current, keeping everything else in the file; `delete` takes them out.
struct Kubeconfig {
    static let name = "onekube"

    /// Who the file belongs to: the user behind sudo, not root.
    struct Owner {
        var uid: uid_t
        var gid: gid_t
        var home: String
    }

    static func invokingUser() -> Owner? {
        let environment = ProcessInfo.processInfo.environment
        guard let user = environment["SUDO_USER"], !user.isEmpty, user != "root", let entry = getpwnam(user) else { return nil }
        return Owner(uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid, home: String(cString: entry.pointee.pw_dir))
    }

    /// `--kubeconfig`, else the first path of `$KUBECONFIG`, else `~/.kube/config` of the invoking user.
    static func path(flag: String?) -> String {
        if let flag, !flag.isEmpty { return DataDirectory.absolute(flag) }
        if let env = ProcessInfo.processInfo.environment["KUBECONFIG"], let first = env.split(separator: ":").first, !first.isEmpty {
            return String(first)
        }
        let home = invokingUser()?.home ?? ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return home + "/.kube/config"
    }

    static func load(_ path: String) throws -> [String: Any] {
        guard FileSystem.exists(path) else { return [:] }
        let text = try FileSystem.readString(path)
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return [:] }
        guard let object = try Yams.load(yaml: text) as? [String: Any] else {
            throw OnekubeError(.invalidArgument, "kubeconfig \(path) is not a YAML mapping")
        }
        return object
    }

    /// Replaces the entry named `onekube` in a list of `{name, <field>}` entries (or appends it).
    static func upsert(_ list: Any?, field: String, value: [String: Any]) -> [[String: Any]] {
        var entries = (list as? [[String: Any]]) ?? []
        entries.removeAll { ($0["name"] as? String) == name }
        entries.append(["name": name, field: value])
        return entries
    }

    static func write(server: String, certificateAuthorityData: String, token: String, to path: String) throws {
        var config = try load(path)
        config["apiVersion"] = config["apiVersion"] ?? "v1"
        config["kind"] = config["kind"] ?? "Config"
        config["clusters"] = upsert(config["clusters"], field: "cluster",
                                    value: ["server": server, "certificate-authority-data": certificateAuthorityData])
        config["users"] = upsert(config["users"], field: "user", value: ["token": token])
        config["contexts"] = upsert(config["contexts"], field: "context", value: ["cluster": name, "user": name, "namespace": "default"])
        config["current-context"] = name
        if config["preferences"] == nil { config["preferences"] = [String: Any]() }
        try save(config, to: path)
    }

    static func remove(from path: String) throws {
        guard FileSystem.exists(path) else { return }
        var config = try load(path)
        for key in ["clusters", "users", "contexts"] {
            config[key] = ((config[key] as? [[String: Any]]) ?? []).filter { ($0["name"] as? String) != name }
        }
        if (config["current-context"] as? String) == name { config["current-context"] = "" }
        try save(config, to: path)
    }

    static func save(_ config: [String: Any], to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let existed = FileSystem.exists(path)
        if !FileSystem.isDirectory(directory) {
            try FileSystem.createDirectory(directory, mode: 0o750)
            if let owner = invokingUser() { chown(directory, owner.uid, owner.gid) }
        }
        var st = stat()
        let mode: mode_t = existed && stat(path, &st) == 0 ? st.st_mode & 0o777 : 0o600
        let owner = existed && stat(path, &st) == 0 ? (st.st_uid, st.st_gid) : (invokingUser().map { ($0.uid, $0.gid) } ?? (getuid(), getgid()))
        let yaml = try Yams.dump(object: config, sortKeys: true)
        try FileSystem.writeAtomically(path, yaml, mode: mode)
        chown(path, owner.0, owner.1)
    }
}
