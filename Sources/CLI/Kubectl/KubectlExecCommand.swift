import ArgumentParser
import Dispatch
import Foundation
import Glibc
import KubeStreams
import Platform

/// `kubectl exec [-i] [-t] POD|TYPE/NAME [-c CONTAINER] -- COMMAND [args...]`: kubectl 1.32's
/// steps — GET the pod, refuse a completed one, default the container — then the command over a
/// `v5.channel.k8s.io` WebSocket, with the remote exit code as ours.
struct KubectlExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Execute a command in a container.")

    @OptionGroup var global: KubectlGlobalOptions
    /// The pod, then the command after `--` (the parser drops the `--` itself).
    @Argument(help: "POD or TYPE/NAME -- COMMAND [args...]") var words: [String] = []
    @Option(name: .shortAndLong, help: "Container name. If omitted, the first container in the pod will be chosen.") var container: String?
    @Flag(name: [.customShort("i"), .customLong("stdin")], help: "Pass stdin to the container.") var stdin = false
    @Flag(name: .shortAndLong, help: "Stdin is a TTY.") var tty = false
    @Flag(name: .shortAndLong, help: "Only print output from the remote session.") var quiet = false
    @Option(name: .customLong("pod-running-timeout"), help: "The length of time (like 5s, 2m, or 3h) to wait until at least one pod is running.")
    var podRunningTimeout: String = "1m0s"

    func run() async throws {
        try await KubectlCommand.report {
            guard let pod = words.first else {
                throw KubectlError.message("error: pod, type/name or --filename must be specified")
            }
            let arguments = Array(words.dropFirst())
            // Cobra's ArgsLenAtDash: a command with no `--` before it is kubectl's retired form.
            guard arguments.isEmpty || CommandLine.arguments.contains("--") else {
                throw KubectlError.message("error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee 'kubectl exec -h' for help and examples")
            }
            guard !arguments.isEmpty else { throw KubectlError.message("error: you must specify at least one command for the container") }
            let session = try global.session(discover: KubectlPodSelection.needsDiscovery(pod))
            let selection = KubectlPodSelection(session: session, timeout: try KubectlPodSelection.duration(podRunningTimeout))
            let target = try selection.resolve(pod).pod
            let phase = target[path: ["status", "phase"]]?.stringValue ?? ""
            if phase == "Succeeded" || phase == "Failed" {
                throw KubectlError.message("error: cannot exec into a container in a completed pod; current phase is \(phase)")
            }
            let containerName = try container ?? Self.defaultContainer(target, quiet: quiet)

            // kubectl's SetupTTY: a terminal only with stdin, and only when stdin is one.
            let useTTY = tty && stdin && isatty(0) == 1
            if tty && stdin && !useTTY && !quiet {
                Console.err("Unable to use a TTY - input is not a terminal or the right kind of file\n")
            }
            let name = target[path: ["metadata", "name"]]?.stringValue ?? pod
            let namespace = target[path: ["metadata", "namespace"]]?.stringValue ?? session.context.namespace
            // url.Values.Encode: keys sorted, each command word its own parameter.
            var query = arguments.map { "command=" + GoURL.queryEscape($0) }
            query.append("container=" + GoURL.queryEscape(containerName))
            if !useTTY { query.append("stderr=true") }
            if stdin { query.append("stdin=true") }
            query.append("stdout=true")
            if useTTY { query.append("tty=true") }
            let path = "/api/v1/namespaces/\(namespace)/pods/\(name)/exec?" + query.joined(separator: "&")

            try Self.report(await Self.stream(session, path: path, sendStdin: stdin, tty: useTTY, threadName: "onekube-kubectl-exec"))
        }
    }

    /// A remote command's streams over a `v5.channel.k8s.io` WebSocket (exec's and attach's),
    /// the terminal raw for the session when `tty`.
    static func stream(_ session: KubectlGlobalOptions.Session, path: String, sendStdin: Bool, tty: Bool,
                       threadName: String) async throws -> RemoteCommandClient.Outcome {
        let socket: KubeWebSocket
        do {
            socket = try KubeWebSocket.open(session.client, path: path, protocols: [ChannelProtocol.v5.rawValue])
        } catch let refusal as KubeWebSocket.Refusal {
            throw KubectlError.message(refusal.kubectlMessage(plainPrefix: "unable to upgrade connection"))
        }
        return try await onDedicatedThread(name: threadName) {
            let raw = tty ? Terminal.makeRaw(0) : nil
            let restorer = raw.map(Self.restoreOnSignals)
            defer {
                raw?.restore()
                restorer?.forEach { $0.cancel() }
            }
            return try RemoteCommandClient(socket: socket, sendStdin: sendStdin, tty: tty).run()
        }
    }

    /// The session's end as kubectl reports it: a remote exit code becomes ours.
    static func report(_ outcome: RemoteCommandClient.Outcome) throws {
        switch outcome {
        case .success:
            return
        case .exitCode(let code):
            Console.err("command terminated with exit code \(code)\n")
            throw ExitCode(Int32(code))
        case .failure(let message):
            throw KubectlError.message("error: \(message)")
        }
    }

    /// kubectl's `FindOrDefaultContainerByName`: the `kubectl.kubernetes.io/default-container`
    /// annotation, else the first container, said aloud when there was a choice.
    static func defaultContainer(_ pod: OrderedJSON, quiet: Bool) throws -> String {
        let names = { (key: String) in (pod[path: ["spec", key]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue } }
        let containers = names("containers"), ephemeral = names("ephemeralContainers"), initContainers = names("initContainers")
        guard let first = containers.first else {
            let namespace = pod[path: ["metadata", "namespace"]]?.stringValue ?? ""
            let name = pod[path: ["metadata", "name"]]?.stringValue ?? ""
            throw KubectlError.message("error: pod \(namespace)/\(name) does not have any containers")
        }
        if let annotated = pod[path: ["metadata", "annotations", "kubectl.kubernetes.io/default-container"]]?.stringValue,
           (containers + ephemeral + initContainers).contains(annotated) {
            return annotated
        }
        if !quiet && (containers.count > 1 || !ephemeral.isEmpty) {
            let all = containers + ephemeral.map { "\($0) (ephem)" } + initContainers.map { "\($0) (init)" }
            Console.err("Defaulted container \"\(first)\" out of: \(all.joined(separator: ", "))\n")
        }
        return first
    }

    /// A terminal in raw mode goes back to normal when a signal ends us (kubectl's `TTY.Safe`).
    static func restoreOnSignals(_ raw: Terminal.RawMode) -> [DispatchSourceSignal] {
        [SIGHUP, SIGINT, SIGTERM, SIGQUIT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                raw.restore()
                Glibc.exit(1)
            }
            source.resume()
            return source
        }
    }
}
