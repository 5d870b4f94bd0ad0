/// The /proc and /sys paths Docker hides or makes read-only in every container (moby
/// `oci/defaults.go`, v28), so that a container cannot read host secrets or reconfigure the kernel.
public enum ProcPaths {
    public static let masked = [
        "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
        "/sys/devices/virtual/powercap",
    ]

    public static let readOnly = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
}
