import CLinux
import Glibc
import Platform

/// Linux namespaces as the helper enters them.
enum Namespace: String, CaseIterable {
    case ipc, uts, net, pid, mnt

    var flag: Int32 {
        switch self {
        case .ipc: return Int32(CLONE_NEWIPC)
        case .uts: return Int32(CLONE_NEWUTS)
        case .net: return Int32(CLONE_NEWNET)
        case .pid: return Int32(CLONE_NEWPID)
        case .mnt: return Int32(CLONE_NEWNS)
        }
    }

    /// Joins `kinds` of the namespaces `pid` lives in. All are opened first: once the mount
    /// namespace is entered, /proc would be the container's.
    static func join(pid: Int32, _ kinds: [Namespace]) throws(SystemError) {
        var opened: [(Namespace, Int32)] = []
        defer { for (_, fd) in opened { close(fd) } }
        for kind in kinds {
            let path = "/proc/\(pid)/ns/\(kind.rawValue)"
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError("open", path: path) }
            opened.append((kind, fd))
        }
        for (kind, fd) in opened {
            guard cz_setns(fd, kind.flag) == 0 else { throw SystemError("setns", path: "/proc/\(pid)/ns/\(kind.rawValue)") }
        }
    }
}
