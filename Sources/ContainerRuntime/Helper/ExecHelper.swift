import CLinux
import Glibc
import Platform

/// The helper that starts a process in a running container (`docker exec`): it joins the
/// container init's namespaces, forks (a new PID namespace only applies to children), puts the
/// child in the container's cgroups and waits for it.
enum ExecHelper {
    static func run() -> Int32 {
        HelperChannel.markStatusCloseOnExec()
        do {
            let spec = try HelperChannel.readSpec(ExecSpec.self)
            let cgroups = try CgroupProcs(spec.cgroupProcsFiles)
            try Namespace.join(pid: spec.containerPID, [.ipc, .uts, .net, .pid, .mnt])
            let child = try InitHelper.forkContainerProcess(cgroups: cgroups, hasConsole: spec.process.tty) { gate in
                ProcessLaunch.execute(spec.process, gate: gate, isInit: false)
            }
            return HelperChannel.waitForExit(child)
        } catch {
            HelperChannel.reportError("\(error)", exitCode: 126)
            return 126
        }
    }
}

/// A pod's sandbox: new network, IPC and UTS namespaces, held by this process (the pause
/// container of other runtimes) until it is told to stop.
enum SandboxHelper {
    static func run() -> Int32 {
        HelperChannel.markStatusCloseOnExec()
        do {
            let spec = try HelperChannel.readSpec(SandboxSpec.self)
            try CgroupProcs(spec.cgroupProcsFiles).add(getpid())
            let hostSocket = spec.network != nil ? try NetlinkSocket() : nil
            guard cz_unshare(Int32(CLONE_NEWNET) | Int32(CLONE_NEWUTS) | Int32(CLONE_NEWIPC)) == 0 else { throw SystemError("unshare") }
            try SandboxSetup.configure(hostname: spec.hostname, network: spec.network, hostSocket: hostSocket)
            HelperChannel.reportPID(getpid())
            close(HelperChannel.statusFD)
            HelperChannel.detachStandardDescriptors()
            var stop = sigset_t()
            sigemptyset(&stop)
            for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&stop, signal) }
            sigprocmask(SIG_BLOCK, &stop, nil)
            var received: Int32 = 0
            sigwait(&stop, &received)
            return 0
        } catch {
            HelperChannel.reportError("\(error)", exitCode: 128)
            return 128
        }
    }
}
