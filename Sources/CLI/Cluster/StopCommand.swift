import ArgumentParser
import Daemon
import Foundation
import Glibc
import Platform

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop the onekube daemon gracefully.")

    @OptionGroup var data: DataDirectoryOption

    @Option(help: "Seconds to wait for a graceful stop before killing the daemon.")
    var timeout: Int = 60

    func run() throws {
        let configuration = data.configuration
        guard case .running(let pid) = PidFile.status(path: configuration.pidFilePath) else {
            Console.out("onekube is not running\n")
            return
        }
        guard try Self.stop(pid: pid, pidFile: configuration.pidFilePath, timeout: timeout) else {
            Console.err("onekube (pid \(pid)) did not stop within \(timeout) s and was killed\n")
            throw ExitCode(1)
        }
        Console.out("onekube stopped\n")
    }

    /// SIGTERM, then wait for the pid-file lock to drop; SIGKILL after `timeout`. Returns whether
    /// the daemon stopped gracefully.
    static func stop(pid: pid_t, pidFile: String, timeout: Int) throws -> Bool {
        guard kill(pid, SIGTERM) == 0 || errno == ESRCH else { throw SystemError("kill", path: "pid \(pid)") }
        let deadline = Date().addingTimeInterval(TimeInterval(timeout))
        while Date() < deadline {
            if PidFile.status(path: pidFile) == .notRunning && !ProcessSpawner.isAlive(pid) { return true }
            usleep(5_000)
        }
        kill(pid, SIGKILL)
        while ProcessSpawner.isAlive(pid) { usleep(5_000) }
        return false
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Say whether onekube runs, and where.")

    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        let configuration = data.configuration
        switch PidFile.status(path: configuration.pidFilePath) {
        case .running(let pid):
            Console.out("""
                onekube: Running
                pid: \(pid)
                data dir: \(configuration.dataDirectory)
                docker API: unix://\(configuration.dockerSocketPath)
                log: \(configuration.logPath)

                """)
        case .notRunning:
            Console.out("onekube: Stopped\ndata dir: \(configuration.dataDirectory)\n")
            // minikube's convention: a non-zero status when the cluster is not running.
            throw ExitCode(7)
        }
    }
}

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Stop onekube and remove its data directory.")

    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        let configuration = data.configuration
        if case .running(let pid) = PidFile.status(path: configuration.pidFilePath) {
            _ = try StopCommand.stop(pid: pid, pidFile: configuration.pidFilePath, timeout: 60)
        }
        guard FileSystem.exists(configuration.dataDirectory) else {
            Console.out("onekube has no data in \(configuration.dataDirectory)\n")
            return
        }
        if let recorded = try? FileSystem.readString(configuration.kubeconfigRecordPath) {
            let path = recorded.trimmingCharacters(in: .whitespacesAndNewlines)
            do {
                try Kubeconfig.remove(from: path)
                Console.out("Removed the onekube context from \(path)\n")
            } catch {
                Console.err("could not remove the onekube context from \(path): \(error)\n")
            }
        }
        // Only a directory that looks like onekube's is removed.
        let names = Set(try FileSystem.listDirectory(configuration.dataDirectory))
        let ours = DaemonConfiguration.dataDirectoryEntries
        guard names.isSubset(of: ours) else {
            Console.err("refusing to delete \(configuration.dataDirectory): it holds files onekube did not write (\(names.subtracting(ours).sorted().joined(separator: ", ")))\n")
            throw ExitCode(1)
        }
        try FileSystem.removeTree(configuration.dataDirectory)
        Console.out("Deleted onekube data in \(configuration.dataDirectory)\n")
    }
}

struct DockerEnvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docker-env", abstract: "Print the environment that points the docker CLI at onekube.")

    @OptionGroup var data: DataDirectoryOption

    @Flag(name: [.customShort("u"), .customLong("unset")], help: "Print commands that undo it.")
    var unset = false

    func run() throws {
        if unset {
            Console.out("unset DOCKER_HOST\n")
            return
        }
        Console.out("""
            export DOCKER_HOST="unix://\(data.configuration.dockerSocketPath)"

            # To point your shell to onekube's docker API, run:
            # eval $(onekube docker-env)

            """)
    }
}
