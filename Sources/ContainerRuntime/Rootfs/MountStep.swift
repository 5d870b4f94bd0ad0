import Glibc

/// One step of building a container's file system view, run by the container's init inside its
/// own mount namespace. Targets are paths inside the container (`/proc`); sources of binds are
/// host paths, read before pivot_root.
public enum MountStep: Codable, Sendable, Equatable {
    /// mount(2) of a file system on a directory (created if missing).
    case mount(type: String, source: String, target: String, flags: MountFlags, data: String)
    /// A bind mount of a host file or directory (its target created like the source).
    case bind(source: String, target: String, readOnly: Bool)
    case symlink(target: String, at: String)
    /// Hidden: /dev/null over a file, an empty read-only tmpfs over a directory; absent is fine.
    case mask(path: String)
    /// Bound over itself read-only; absent is fine.
    case readOnly(path: String)
}

/// MS_* flags, spelled out so plans read well in tests and logs.
public struct MountFlags: OptionSet, Codable, Sendable, Equatable, CustomStringConvertible {
    public let rawValue: UInt

    public init(rawValue: UInt) { self.rawValue = rawValue }

    public static let readOnly = MountFlags(rawValue: UInt(MS_RDONLY))
    public static let noSuid = MountFlags(rawValue: UInt(MS_NOSUID))
    public static let noDev = MountFlags(rawValue: UInt(MS_NODEV))
    public static let noExec = MountFlags(rawValue: UInt(MS_NOEXEC))
    public static let strictAtime = MountFlags(rawValue: UInt(MS_STRICTATIME))
    public static let relatime = MountFlags(rawValue: UInt(MS_RELATIME))

    public var description: String {
        var parts: [String] = []
        if contains(.readOnly) { parts.append("ro") }
        if contains(.noSuid) { parts.append("nosuid") }
        if contains(.noDev) { parts.append("nodev") }
        if contains(.noExec) { parts.append("noexec") }
        if contains(.strictAtime) { parts.append("strictatime") }
        if contains(.relatime) { parts.append("relatime") }
        return parts.joined(separator: ",")
    }
}
