/// Who a container process runs as, resolved from a Docker `User` string and the image's
/// /etc/passwd and /etc/group (as runc's `user.GetExecUser` does).
public struct UserIdentity: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var supplementaryGroups: [UInt32]
    public var home: String

    public init(uid: UInt32, gid: UInt32, supplementaryGroups: [UInt32] = [], home: String) {
        self.uid = uid
        self.gid = gid
        self.supplementaryGroups = supplementaryGroups
        self.home = home
    }

    struct PasswdEntry {
        var name: String
        var uid: UInt32
        var gid: UInt32
        var home: String
    }

    struct GroupEntry {
        var name: String
        var gid: UInt32
        var members: [String]
    }

    static func parsePasswd(_ text: String) -> [PasswdEntry] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 6, let uid = UInt32(f[2]), let gid = UInt32(f[3]) else { return nil }
            return PasswdEntry(name: f[0], uid: uid, gid: gid, home: f[5])
        }
    }

    static func parseGroup(_ text: String) -> [GroupEntry] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 3, let gid = UInt32(f[2]) else { return nil }
            let members = f.count > 3 ? f[3].split(separator: ",").map(String.init) : []
            return GroupEntry(name: f[0], gid: gid, members: members)
        }
    }

    /// Resolves `user` against the files' contents (nil when a file is missing). Numeric IDs need
    /// no entry; names must exist, with Docker's messages when they do not.
    public static func resolve(_ user: String, passwd: String?, group: String?) throws -> UserIdentity {
        let users = parsePasswd(passwd ?? "")
        let groups = parseGroup(group ?? "")
        let parts = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts.first ?? ""
        let groupPart = parts.count > 1 ? parts[1] : nil

        var identity = UserIdentity(uid: 0, gid: 0, home: "/")
        var entry: PasswdEntry?
        if userPart.isEmpty {
            entry = users.first { $0.uid == 0 }
        } else if let uid = UInt32(userPart) {
            entry = users.first { $0.uid == uid }
            identity.uid = uid
        } else {
            guard let found = users.first(where: { $0.name == userPart }) else {
                throw ContainerStartError.userNotFound("unable to find user \(userPart): no matching entries in passwd file")
            }
            entry = found
        }
        if let entry {
            identity.uid = entry.uid
            identity.gid = entry.gid
            identity.home = entry.home
        }
        if let groupPart, !groupPart.isEmpty {
            if let gid = UInt32(groupPart) {
                identity.gid = gid
            } else if let found = groups.first(where: { $0.name == groupPart }) {
                identity.gid = found.gid
            } else {
                throw ContainerStartError.userNotFound("unable to find group \(groupPart): no matching entries in group file")
            }
        } else if let name = entry?.name {
            identity.supplementaryGroups = groups.filter { $0.members.contains(name) && $0.gid != identity.gid }.map(\.gid)
        }
        return identity
    }
}

/// Why a container process could not be started, in the words Docker's runtime uses (the
/// docker CLI picks its exit code 126/127 by searching these texts).
public enum ContainerStartError: Error, Equatable, CustomStringConvertible {
    case executableNotFound(String)
    case noSuchFile(String, path: String)
    case permissionDenied(String)
    case isDirectory(String)
    case userNotFound(String)
    case setup(String)

    public var description: String {
        switch self {
        case .executableNotFound(let name): return "exec: \"\(name)\": executable file not found in $PATH"
        case .noSuchFile(let name, let path): return "exec: \"\(name)\": stat \(path): no such file or directory"
        case .permissionDenied(let name): return "exec: \"\(name)\": permission denied"
        case .isDirectory(let name): return "exec: \"\(name)\": is a directory"
        case .userNotFound(let message), .setup(let message): return message
        }
    }

    /// The exit code Docker records for a process that never started.
    public var exitCode: Int32 {
        switch self {
        case .executableNotFound, .noSuchFile: return 127
        case .permissionDenied, .isDirectory: return 126
        case .userNotFound, .setup: return 128
        }
    }
}
