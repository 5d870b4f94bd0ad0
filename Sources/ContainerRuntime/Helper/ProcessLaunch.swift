import CLinux
import Glibc
import Platform

/// The last steps in a container's process, after its file system view is in place: become the
/// user with Docker's capabilities, enter the working directory, exec. Shared by the container's
/// init and by exec'd processes. Only returns by exec or `_exit`.
enum ProcessLaunch {
    static func execute(_ process: ProcessSpec, gate: Int32, isInit: Bool) -> Never {
        do {
            try launch(process, gate: gate, isInit: isInit)
        } catch let error as ContainerStartError {
            HelperChannel.reportError(error.description, exitCode: error.exitCode)
            _exit(error.exitCode)
        } catch {
            HelperChannel.reportError("\(error)", exitCode: 128)
            _exit(128)
        }
        _exit(128)
    }

    private static func launch(_ process: ProcessSpec, gate: Int32, isInit: Bool) throws {
        let identity = try UserIdentity.resolve(
            process.user, passwd: try? FileSystem.readString("/etc/passwd"), group: try? FileSystem.readString("/etc/group"))
        var env = process.env
        if !env.contains(where: { $0.hasPrefix("HOME=") }) { env.append("HOME=\(identity.home)") }

        let directory = process.workingDir.isEmpty ? "/" : process.workingDir
        try? FileSystem.createDirectory(directory, mode: 0o755)
        guard chdir(directory) == 0 else {
            throw ContainerStartError.setup("chdir to cwd (\"\(directory)\") set in config.json failed: \(String(cString: strerror(errno)))")
        }
        if process.tty { try makeTerminal(rows: process.rows, columns: process.columns) }
        guard setsid() >= 0 else { throw SystemError("setsid") }
        if process.tty { _ = cz_set_controlling_tty(0) }

        // The helper writes us into the cgroups, then closes the gate.
        var byte: UInt8 = 0
        while read(gate, &byte, 1) < 0 && errno == EINTR {}
        close(gate)

        try become(identity, capabilities: process.capabilities)
        if process.noNewPrivileges { guard cz_set_no_new_privs() == 0 else { throw SystemError("prctl(PR_SET_NO_NEW_PRIVS)") } }
        // The credentials change cleared it; the init dies with its helper.
        if isInit { _ = cz_set_pdeathsig(SIGKILL) }

        guard let name = process.args.first else { throw ContainerStartError.setup("no command specified") }
        let path = try ExecutableLookup.resolve(name, env: env)
        let argv = process.args.map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        execve(path, argv, envp)
        switch errno {
        case ENOENT: throw ContainerStartError.noSuchFile(name, path: path)
        case EACCES: throw ContainerStartError.permissionDenied(name)
        default: throw ContainerStartError.setup("exec: \"\(name)\": \(String(cString: strerror(errno)))")
        }
    }

    /// Opens a pseudo-terminal in the container's /dev/pts, makes it our stdio, and sends the
    /// master to the daemon.
    static func makeTerminal(rows: UInt16, columns: UInt16) throws(SystemError) {
        var master: Int32 = -1, slave: Int32 = -1
        guard cz_openpty(&master, &slave, rows, columns) == 0 else { throw SystemError("openpty", path: "/dev/ptmx") }
        guard cz_send_fd(HelperChannel.consoleSocketFD, master) == 0 else { throw SystemError("sendmsg", path: "console socket") }
        close(master)
        close(HelperChannel.consoleSocketFD)  // also closed by exec, but the daemon waits for it
        for fd: Int32 in 0...2 { dup2(slave, fd) }
        close(slave)
    }

    /// runc's order: keep capabilities across setuid, trim the bounding set, switch IDs, then
    /// set the capability sets (root keeps Docker's set; other users get none but the bound).
    static func become(_ identity: UserIdentity, capabilities: CapabilitySet) throws(SystemError) {
        guard cz_set_keepcaps(1) == 0 else { throw SystemError("prctl(PR_SET_KEEPCAPS)") }
        let last = cz_cap_last_cap()
        for cap in 0...max(0, last) where !capabilities.contains(Int(cap)) {
            guard cz_capbset_drop(cap) == 0 || errno == EINVAL else { throw SystemError("prctl(PR_CAPBSET_DROP)", path: "cap \(cap)") }
        }
        let groups = identity.supplementaryGroups.map { gid_t($0) }
        guard groups.withUnsafeBufferPointer({ setgroups($0.count, $0.baseAddress) }) == 0 else { throw SystemError("setgroups") }
        guard setgid(gid_t(identity.gid)) == 0 else { throw SystemError("setgid", path: "\(identity.gid)") }
        guard setuid(uid_t(identity.uid)) == 0 else { throw SystemError("setuid", path: "\(identity.uid)") }
        let sets = identity.uid == 0 ? capabilities.mask : 0
        guard cz_capset(sets, sets, sets) == 0 else { throw SystemError("capset") }
        _ = cz_set_keepcaps(0)
        _ = cz_ambient_clear_all()
    }
}
