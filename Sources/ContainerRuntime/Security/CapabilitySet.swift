/// A set of Linux capabilities, as a bit mask over the kernel's numbers.
public struct CapabilitySet: Codable, Sendable, Equatable, CustomStringConvertible {
    public var mask: UInt64

    public init(mask: UInt64) { self.mask = mask }

    /// The kernel's capability names, index = number (capability.h, up to CAP_CHECKPOINT_RESTORE).
    public static let names = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
        "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    /// Docker's default set (moby `oci/caps/defaults.go`): what a container's root keeps.
    public static let dockerDefault = CapabilitySet(names: [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
        "CAP_AUDIT_WRITE",
    ])

    /// Unknown names are ignored (the set is fixed in code, not taken from users).
    public init(names: [String]) {
        var mask: UInt64 = 0
        for name in names {
            if let index = Self.names.firstIndex(of: name) { mask |= 1 << UInt64(index) }
        }
        self.mask = mask
    }

    public func contains(_ number: Int) -> Bool { number < 64 && mask & (1 << UInt64(number)) != 0 }

    public var memberNames: [String] {
        Self.names.indices.filter { contains($0) }.map { Self.names[$0] }
    }

    public var description: String { memberNames.joined(separator: ",") }
}
