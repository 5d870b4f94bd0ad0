import ArgumentParser
import Foundation
import Glibc
import Platform

/// `kubectl attach (POD | TYPE/NAME | TYPE NAME) [-c CONTAINER] [-i] [-t]`: kubectl 1.32's steps —
/// find the pod (a workload's most active one), refuse a completed one, pick the container and
/// follow its TTY setting — then the container's own stdio over a `v5.channel.k8s.io` WebSocket.
struct KubectlAttachCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "attach", abstract: "Attach to a running container.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "POD or TYPE/NAME, or TYPE NAME") var resources: [String] = []
    @Option(name: .shortAndLong, help: "Container name. If omitted, use the kubectl.kubernetes.io/default-container annotation for selecting the container to be attached or the first container in the pod will be chosen")
    var container: String?
    @Flag(name: [.customShort("i"), .customLong("stdin")], help: "Pass stdin to the container") var stdin = false
    @Flag(name: .shortAndLong, help: "Stdin is a TTY") var tty = false
    @Flag(name: .shortAndLong, help: "Only print output from the remote session") var quiet = false
    @Option(name: .customLong("pod-running-timeout"), help: "The length of time (like 5s, 2m, or 3h, higher than zero) to wait until at least one pod is running")
    var podRunningTimeout: String = "1m0s"

    func run() async throws {
        try await KubectlCommand.report {
            guard !resources.isEmpty else { throw KubectlError.message("error: at least 1 argument is required for attach") }
            guard resources.count <= 2 else {
                throw KubectlError.message("error: expected POD, TYPE/NAME, or TYPE NAME, (at most 2 arguments) saw \(resources.count): [\(resources.joined(separator: " "))]")
            }
            let timeout = try KubectlPodSelection.duration(podRunningTimeout)
            guard timeout > .zero else {
                throw KubectlError.message("error: --pod-running-timeout must be higher than zero\nSee 'kubectl attach -h' for help and examples")
            }
            let argument = resources.count == 2 ? resources[0] + "/" + resources[1] : resources[0]
            let session = try global.session(discover: KubectlPodSelection.needsDiscovery(argument))
            let pod = try KubectlPodSelection(session: session, timeout: timeout).resolve(argument).pod
            let phase = pod[path: ["status", "phase"]]?.stringValue ?? ""
            if phase == "Succeeded" || phase == "Failed" {
                throw KubectlError.message("error: cannot attach a container in a completed pod; current phase is \(phase)")
            }
            let target = try Self.container(named: container, in: pod, quiet: quiet)
            let name = target["name"]?.stringValue ?? ""

            // The container's own TTY decides: a terminal is asked for only when it has one, and
            // forced when it has (its output is unframed otherwise).
            var wantsTTY = tty
            let containerTTY = target["tty"]?.boolValue ?? false
            if wantsTTY && !containerTTY {
                wantsTTY = false
                if !quiet { Console.err("error: Unable to use a TTY - container \(name) did not allocate one\n") }
            } else if !wantsTTY && containerTTY {
                wantsTTY = true
            }
            // kubectl's SetupTTY: a terminal only with stdin, and only when stdin is one.
            let raw = wantsTTY && stdin && isatty(0) == 1
            if wantsTTY && stdin && !raw && !quiet {
                Console.err("Unable to use a TTY - input is not a terminal or the right kind of file\n")
            }
            if !quiet { Console.err("If you don't see a command prompt, try pressing enter.\n") }

            let podName = pod[path: ["metadata", "name"]]?.stringValue ?? argument
            let namespace = pod[path: ["metadata", "namespace"]]?.stringValue ?? session.context.namespace
            // PodAttachOptions as url.Values encodes them: keys sorted, false values left out.
            var query = ["container=" + GoURL.queryEscape(name)]
            if !raw { query.append("stderr=true") }
            if stdin { query.append("stdin=true") }
            query.append("stdout=true")
            if raw { query.append("tty=true") }
            let path = "/api/v1/namespaces/\(namespace)/pods/\(podName)/attach?" + query.joined(separator: "&")
            try KubectlExecCommand.report(await KubectlExecCommand.stream(session, path: path, sendStdin: stdin, tty: raw,
                                                                          threadName: "onekube-kubectl-attach"))

            let restartPolicy = pod[path: ["spec", "restartPolicy"]]?.stringValue ?? "Always"
            if !quiet && stdin && raw && restartPolicy == "Always" {
                Console.out("Session ended, resume using 'kubectl attach \(podName) -c \(name) -i -t' command when the pod is running\n")
            }
        }
    }

    /// kubectl's FindOrDefaultContainerByName, for the container's spec: `-c` among every kind
    /// of container, else the default one.
    static func container(named wanted: String?, in pod: OrderedJSON, quiet: Bool) throws -> OrderedJSON {
        let all = ["containers", "initContainers", "ephemeralContainers"].flatMap { pod[path: ["spec", $0]]?.arrayValue ?? [] }
        if let wanted {
            guard let found = all.first(where: { $0["name"]?.stringValue == wanted }) else {
                let name = pod[path: ["metadata", "name"]]?.stringValue ?? ""
                throw KubectlError.message("error: cannot attach to the container: container \(wanted) not found in pod \(name)")
            }
            return found
        }
        guard !(pod[path: ["spec", "containers"]]?.arrayValue ?? []).isEmpty else {
            let namespace = pod[path: ["metadata", "namespace"]]?.stringValue ?? ""
            let name = pod[path: ["metadata", "name"]]?.stringValue ?? ""
            throw KubectlError.message("error: cannot attach to the container: pod \(namespace)/\(name) does not have any containers")
        }
        let chosen = try KubectlExecCommand.defaultContainer(pod, quiet: quiet)
        return all.first { $0["name"]?.stringValue == chosen } ?? .object([])
    }
}
