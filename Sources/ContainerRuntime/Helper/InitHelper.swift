import CLinux
import Glibc
import Platform

/// The helper that becomes a container: it unshares the namespaces (or joins its pod's sandbox),
/// wires the network, forks the container's init (PID 1 of the new PID namespace), puts it in its
/// cgroups, reports its pid and then waits for it, exiting with its exit code. Runs in a freshly
/// spawned, single-threaded copy of onekube, never in the daemon.
enum InitHelper {
    static func run() -> Int32 {
        HelperChannel.markStatusCloseOnExec()
        do {
            let spec = try HelperChannel.readSpec(InitSpec.self)
            // The mount namespace is the init's own (it unshares it after the fork): its
            // pivot_root must not move the helper, which still needs the host's /sys/fs/cgroup.
            var flags = Int32(CLONE_NEWPID)
            var hostSocket: NetlinkSocket?
            if let sandbox = spec.sandboxPID {
                try Namespace.join(pid: sandbox, [.net, .ipc, .uts])
            } else {
                flags |= Int32(CLONE_NEWNET) | Int32(CLONE_NEWUTS) | Int32(CLONE_NEWIPC)
                // Opened before unsharing: it keeps speaking to the host's network namespace.
                if spec.network != nil { hostSocket = try NetlinkSocket() }
            }
            guard cz_unshare(flags) == 0 else { throw SystemError("unshare") }
            let cgroups = try CgroupProcs(spec.cgroupProcsFiles)
            // The init sets up the network and mounts while we move it into its cgroups (a v1
            // move waits for an RCU grace period): the two overlap.
            let socket = hostSocket
            let child = try forkContainerProcess(cgroups: cgroups, hasConsole: spec.process.tty) { gate in
                ContainerInit.run(spec, hostSocket: socket, gate: gate)
            }
            hostSocket = nil
            return HelperChannel.waitForExit(child)
        } catch let failure as HelperFailure {
            HelperChannel.reportError(failure.message, exitCode: failure.exitCode)
            return failure.exitCode
        } catch {
            HelperChannel.reportError("\(error)", exitCode: 128)
            return 128
        }
    }

    /// Forks the process that will exec (it waits on the gate until it is in its cgroups),
    /// reports its pid and detaches the helper from the container's stdio.
    static func forkContainerProcess(cgroups: CgroupProcs, hasConsole: Bool, child body: (Int32) -> Never) throws -> pid_t {
        var gate: [Int32] = [-1, -1]
        guard cz_pipe_cloexec(&gate) == 0 else { throw SystemError("pipe2") }
        let pid = fork()
        guard pid >= 0 else { throw SystemError("fork") }
        if pid == 0 {
            close(gate[1])
            body(gate[0])
        }
        close(gate[0])
        // Only the child sends the terminal; without one, fd 5 may be any descriptor of ours.
        if hasConsole { close(HelperChannel.consoleSocketFD) }
        do {
            try cgroups.add(pid)
        } catch {
            kill(pid, SIGKILL)
            throw HelperFailure(message: "joining cgroup: \(error)")
        }
        HelperChannel.reportPID(pid)
        close(gate[1])
        close(HelperChannel.statusFD)
        HelperChannel.detachStandardDescriptors()
        return pid
    }
}

/// The container's init, forked by the helper inside the new namespaces.
enum ContainerInit {
    static func run(_ spec: InitSpec, hostSocket: NetlinkSocket?, gate: Int32) -> Never {
        _ = cz_set_pdeathsig(SIGKILL)
        if spec.sandboxPID == nil {
            do {
                try SandboxSetup.configure(hostname: spec.hostname, network: spec.network, hostSocket: hostSocket)
            } catch {
                HelperChannel.reportError("error setting up the network: \(error)", exitCode: 128)
                _exit(128)
            }
        }
        do {
            guard cz_unshare(Int32(CLONE_NEWNS)) == 0 else { throw SystemError("unshare", path: "mount namespace") }
            try MountExecutor.run(spec.rootfs)
        } catch {
            HelperChannel.reportError("error mounting the root file system: \(error)", exitCode: 128)
            _exit(128)
        }
        ProcessLaunch.execute(spec.process, gate: gate, isInit: true)
    }
}

/// What a new sandbox (a container of its own, or a pod) gets once its namespaces exist.
enum SandboxSetup {
    static func configure(hostname: String?, network: NetworkAttachment?, hostSocket: NetlinkSocket?) throws {
        if let network, let hostSocket {
            try network.attach(hostSocket: hostSocket)
        } else {
            try NetworkAttachment.bringUpLoopback()
        }
        if let hostname {
            guard sethostname(hostname, hostname.utf8.count) == 0 else { throw SystemError("sethostname", path: hostname) }
        }
    }
}

/// A container's `cgroup.procs` files, opened early: the exec helper enters the container's mount
/// namespace before it forks, and /sys/fs/cgroup is not visible from there.
struct CgroupProcs {
    let files: [(path: String, fd: Int32)]

    init(_ paths: [String]) throws(SystemError) {
        var files: [(String, Int32)] = []
        for path in paths {
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else {
                files.forEach { close($0.1) }
                throw SystemError("open", path: path)
            }
            files.append((path, fd))
        }
        self.files = files
    }

    func add(_ pid: pid_t) throws(SystemError) {
        let bytes = Array("\(pid)".utf8)
        for (path, fd) in files {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == bytes.count else { throw SystemError("write", path: path) }
            close(fd)
        }
    }
}
