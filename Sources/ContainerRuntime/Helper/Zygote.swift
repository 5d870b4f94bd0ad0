import CLinux
import Foundation
import Glibc
import Platform

/// The runtime helper's server mode, a "zygote": spawned once by the daemon, single-threaded,
/// with onekube already loaded and warmed up, it forks a helper for each container, exec or
/// sandbox the daemon asks for. Starting a container then costs a fork of this small process
/// instead of an exec of the whole onekube binary (10 ms of loading and relocating). It reports
/// each helper's pid, then its exit code, on the socket it was given as fd 3.
///
/// Requests: `spawn <tag> <mode> <id>` with the helper's descriptors (stdin, stdout, stderr,
/// spec, status, and the console socket with a terminal) as SCM_RIGHTS. Answers: `spawned <tag>
/// <pid>`, `failed <tag> <errno>`, and later `exited <pid> <code>`.
enum Zygote {
    static let socketFD: Int32 = 3

    static func run() -> Int32 {
        warmUp()
        let signals = cz_signalfd_sigchld()
        guard signals >= 0 else { return 1 }
        var buffer = [UInt8](repeating: 0, count: 512)
        var fds = [Int32](repeating: -1, count: 8)
        while true {
            var polls = [pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0), pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
            if poll(&polls, 2, -1) < 0 {
                if errno == EINTR { continue }
                return 1
            }
            if polls[1].revents != 0 {
                var info = [UInt8](repeating: 0, count: 128 * 8)
                _ = info.withUnsafeMutableBytes { read(signals, $0.baseAddress, $0.count) }
                reapChildren()
            }
            guard polls[0].revents != 0 else { continue }
            var count: Int32 = 0
            let n = buffer.withUnsafeMutableBytes { bytes in
                fds.withUnsafeMutableBufferPointer { cz_recv_message(socketFD, bytes.baseAddress, bytes.count, $0.baseAddress, 8, &count) }
            }
            // The daemon is gone: so is the reason to be. Helpers already forked carry on.
            if n <= 0 { return 0 }
            let request = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: " ").map(String.init)
            let received = Array(fds[0..<Int(count)])
            guard request.count == 4, request[0] == "spawn", let mode = RuntimeHelper.Mode(rawValue: request[2]) else {
                received.forEach { close($0) }
                continue
            }
            let pid = fork()
            if pid == 0 {
                close(socketFD)
                close(signals)
                cz_reset_signals()
                exit(runChild(mode, descriptors: received))
            }
            received.forEach { close($0) }
            send(pid < 0 ? "failed \(request[1]) \(errno)" : "spawned \(request[1]) \(pid)")
        }
    }

    /// Puts the descriptors at 0, 1, 2… (through numbers above them all, so that none overwrites
    /// another), closes the rest and runs the helper.
    static func runChild(_ mode: RuntimeHelper.Mode, descriptors: [Int32]) -> Int32 {
        let high = descriptors.map { fcntl($0, F_DUPFD, 64) }
        for (target, fd) in high.enumerated() { dup2(fd, Int32(target)) }
        _ = cz_close_from(Int32(descriptors.count))
        setpgid(0, 0)
        return RuntimeHelper.run(mode)
    }

    static func reapChildren() {
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            let signal = status & 0x7f
            send("exited \(pid) \(signal == 0 ? (status >> 8) & 0xff : 128 + signal)")
        }
    }

    static func send(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { cz_send_message(socketFD, $0.baseAddress, $0.count, nil, 0) }
    }

    /// Runs the JSON decoding of specs once, so that the type metadata and conformances it needs
    /// are resolved here, in the memory every forked helper inherits.
    static func warmUp() {
        let process = ProcessSpec(args: ["true"], env: [], workingDir: "/", user: "")
        let plan = RootfsPlan.container(layers: ["/"], containerDirectory: "/", etc: .init(hostname: "/", hosts: "/", resolvConf: "/"))
        let network = NetworkAttachment(bridge: "b", hostInterface: "h", address: IPv4Address(1), prefixLength: 24, gateway: IPv4Address(1))
        let spec = InitSpec(containerID: "warm", hostname: "warm", network: network, rootfs: plan, cgroupProcsFiles: [], process: process)
        if let data = try? JSONEncoder().encode(spec) { _ = try? JSONDecoder().decode(InitSpec.self, from: data) }
        if let data = try? JSONEncoder().encode(ExecSpec(containerPID: 1, cgroupProcsFiles: [], process: process)) {
            _ = try? JSONDecoder().decode(ExecSpec.self, from: data)
        }
        _ = CapabilitySet.dockerDefault.mask
    }
}
