import ArgumentParser
import Dispatch
import Foundation
import Glibc
import KubeStreams
import Platform

/// `kubectl port-forward POD|TYPE/NAME [LOCAL:]REMOTE... [--address ...]`: the pod (a Service's
/// ports translated to its target ports), one tunnel to it, then listeners on the local ports
/// until Ctrl-C; kubectl's wording for each step.
struct KubectlPortForwardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "port-forward", abstract: "Forward one or more local ports to a pod.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "POD or TYPE/NAME") var target: String
    @Argument(help: "[LOCAL_PORT:]REMOTE_PORT") var ports: [String] = []
    @Option(help: "Addresses to listen on (comma separated). Only accepts IP addresses or localhost as a value.") var address: [String] = ["localhost"]
    @Option(name: .customLong("pod-running-timeout"), help: "The length of time (like 5s, 2m, or 3h) to wait until at least one pod is running.")
    var podRunningTimeout: String = "1m0s"

    struct ForwardedPort: CustomStringConvertible {
        var local: Int
        var remote: Int
        /// Go's `%v` of kubectl's ForwardedPort.
        var description: String { "{\(local) \(remote)}" }
    }

    func run() async throws {
        try await KubectlCommand.report {
            guard !ports.isEmpty else {
                throw KubectlError.message("error: TYPE/NAME and list of ports are required for port-forward\nSee 'kubectl port-forward -h' for help and examples")
            }
            let session = try global.session(discover: KubectlPodSelection.needsDiscovery(target))
            let selection = KubectlPodSelection(session: session, timeout: try KubectlPodSelection.duration(podRunningTimeout))
            let (pod, owner) = try selection.resolve(target)
            let specs = owner?["kind"]?.stringValue == "Service" ? try Self.translateServicePorts(ports, service: owner ?? .null, pod: pod)
                : try Self.namedPortsToNumbers(ports, pod: pod)
            let forwarded = try Self.parse(specs)
            let phase = pod[path: ["status", "phase"]]?.stringValue ?? ""
            guard phase == "Running" else {
                throw KubectlError.message("error: unable to forward port because pod is not running. Current status=\(phase)")
            }
            let listenAddresses = try Self.listenAddresses(address)

            let name = pod[path: ["metadata", "name"]]?.stringValue ?? target
            let namespace = pod[path: ["metadata", "namespace"]]?.stringValue ?? session.context.namespace
            let socket: KubeWebSocket
            do {
                socket = try KubeWebSocket.open(session.client, path: "/api/v1/namespaces/\(namespace)/pods/\(name)/portforward",
                                                protocols: [PortForwardProtocol.webSocketTunnel])
            } catch let refusal as KubeWebSocket.Refusal {
                switch refusal {
                case .status(_, let message), .text(let message): throw KubectlError.message("error: error upgrading connection: \(message)")
                }
            }
            let tunnel = try PortForwardTunnel(socket: socket) { Self.handleError($0) }

            var listening = false
            for port in forwarded {
                var port = port
                var errors: [String] = []
                var listeners: [Int32] = []
                for listen in listenAddresses {
                    do {
                        let (fd, bound) = try Self.listen(listen, port: port.local)
                        port.local = bound
                        listeners.append(fd)
                        Console.out("Forwarding from \(listen.family == AF_INET6 ? "[\(listen.host)]" : listen.host):\(bound) -> \(port.remote)\n")
                    } catch let error as ListenError {
                        errors.append(error.message)
                    }
                }
                // "localhost" needs one of its two addresses; addresses named by the user all.
                let failed = listeners.isEmpty || (address != ["localhost"] && !errors.isEmpty)
                if failed {
                    listeners.forEach { close($0) }
                    Console.err("Unable to listen on port \(port.local): Listeners failed to create with the following errors: [\(errors.joined(separator: " "))]\n")
                    continue
                }
                listening = true
                for fd in listeners {
                    let local = port.local, remote = port.remote
                    Self.detach { Self.accept(on: fd, localPort: local, remotePort: remote, tunnel: tunnel) }
                }
            }
            guard listening else {
                socket.shutdown()
                throw KubectlError.message("error: unable to listen on any of the requested ports: [\(forwarded.map(\.description).joined(separator: " "))]")
            }
            // Ctrl-C ends port-forward quietly, as kubectl's stop channel does.
            signal(SIGINT, SIG_IGN)
            let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
            interrupt.setEventHandler { Glibc.exit(0) }
            interrupt.resume()
            try await onDedicatedThread(name: "onekube-kubectl-port-forward") { tunnel.run() }
            interrupt.cancel()
            throw KubectlError.message("error: lost connection to pod")
        }
    }

    /// kubectl's `runtime.HandleError`: a klog error line on stderr.
    static func handleError(_ message: String) {
        var now = timeval()
        gettimeofday(&now, nil)
        var seconds = now.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        let stamp = String(format: "E%02d%02d %02d:%02d:%02d.%06d %7d portforward.go:424]", parts.tm_mon + 1, parts.tm_mday,
                           parts.tm_hour, parts.tm_min, parts.tm_sec, Int(now.tv_usec), Int(getpid()))
        let quoted = message.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        Console.err("\(stamp) \"Unhandled Error\" err=\"\(quoted)\"\n")
    }

    static func detach(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.stackSize = 256 << 10
        thread.start()
    }

    static func accept(on listener: Int32, localPort: Int, remotePort: Int, tunnel: PortForwardTunnel) {
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            Console.out("Handling connection for \(localPort)\n")
            detach { tunnel.handle(connection: fd, localPort: localPort, remotePort: remotePort) }
        }
    }

    // MARK: ports and addresses

    struct ListenAddress: Equatable {
        var host: String
        var family: Int32
    }

    struct ListenError: Error {
        var message: String
    }

    /// `--address`: `localhost` is 127.0.0.1 and ::1; anything else must be an IP address.
    static func listenAddresses(_ flags: [String]) throws -> [ListenAddress] {
        var result: [ListenAddress] = []
        for value in flags.flatMap({ $0.split(separator: ",").map(String.init) }) {
            if value == "localhost" {
                result += [ListenAddress(host: "127.0.0.1", family: AF_INET), ListenAddress(host: "::1", family: AF_INET6)]
                continue
            }
            var v4 = in_addr(), v6 = in6_addr()
            if inet_pton(AF_INET, value, &v4) == 1 {
                result.append(ListenAddress(host: value, family: AF_INET))
            } else if inet_pton(AF_INET6, value, &v6) == 1 {
                result.append(ListenAddress(host: value, family: AF_INET6))
            } else {
                throw KubectlError.message("error: \(value) is not a valid IP")
            }
        }
        return result
    }

    /// A listening TCP socket, as Go's `net.Listen` makes one (SO_REUSEADDR), and its port.
    static func listen(_ address: ListenAddress, port: Int) throws -> (Int32, Int) {
        let network = address.family == AF_INET6 ? "tcp6" : "tcp4"
        let shown = address.family == AF_INET6 ? "[\(address.host)]:\(port)" : "\(address.host):\(port)"
        func failure(_ call: String) -> ListenError {
            ListenError(message: "unable to create listener: Error listen \(network) \(shown): \(call): \(String(cString: strerror(errno)))")
        }
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        var length: socklen_t
        if address.family == AF_INET6 {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
            var v6 = sockaddr_in6()
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, address.host, &v6.sin6_addr)
            withUnsafeBytes(of: v6) { source in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            var v4 = sockaddr_in()
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, address.host, &v4.sin_addr)
            withUnsafeBytes(of: v4) { source in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        let bound = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else {
            let error = failure("bind")
            close(fd)
            throw error
        }
        guard Glibc.listen(fd, 128) == 0 else {
            let error = failure("listen")
            close(fd)
            throw error
        }
        length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        // The port is at the same offset in sockaddr_in and sockaddr_in6.
        let chosen = withUnsafeBytes(of: storage) { Int(UInt16($0[2]) << 8 | UInt16($0[3])) }
        return (fd, chosen)
    }

    /// kubectl's `parsePorts`: `REMOTE`, `LOCAL:REMOTE`, `:REMOTE` (any free local port).
    static func parse(_ specs: [String]) throws -> [ForwardedPort] {
        try specs.map { spec in
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2 else { throw KubectlError.message("error: invalid port format '\(spec)'") }
            let localText = parts.count == 1 ? parts[0] : (parts[0].isEmpty ? "0" : parts[0])
            let remoteText = parts.count == 1 ? parts[0] : parts[1]
            guard let local = UInt16(localText) else {
                throw KubectlError.message("error: error parsing local port '\(localText)': \(Self.parseUintError(localText))")
            }
            guard let remote = UInt16(remoteText) else {
                throw KubectlError.message("error: error parsing remote port '\(remoteText)': \(Self.parseUintError(remoteText))")
            }
            guard remote > 0 else { throw KubectlError.message("error: remote port must be > 0") }
            return ForwardedPort(local: Int(local), remote: Int(remote))
        }
    }

    /// Go's `strconv.ParseUint(text, 10, 16)` error.
    static func parseUintError(_ text: String) -> String {
        let reason = !text.isEmpty && text.allSatisfy(\.isNumber) ? "value out of range" : "invalid syntax"
        return "strconv.ParseUint: parsing \(String(reflecting: text)): \(reason)"
    }

    static func splitPort(_ spec: String) -> (local: String, remote: String) {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : (parts[0], parts[0])
    }

    /// A named remote port (`8888:http`) becomes the container port of that name.
    static func namedPortsToNumbers(_ specs: [String], pod: OrderedJSON) throws -> [String] {
        try specs.map { spec in
            let (local, remote) = splitPort(spec)
            let number = Int(remote) != nil ? remote : String(try containerPort(named: remote, in: pod))
            return local != remote ? "\(local):\(number)" : number
        }
    }

    static func containerPort(named name: String, in pod: OrderedJSON) throws -> Int {
        for container in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
            for port in container["ports"]?.arrayValue ?? [] where port["name"]?.stringValue == name {
                if let number = port["containerPort"]?.intValue { return Int(number) }
            }
        }
        let podName = pod[path: ["metadata", "name"]]?.stringValue ?? ""
        throw KubectlError.message("error: Pod '\(podName)' does not have a named port '\(name)'")
    }

    /// kubectl's `translateServicePortToTargetPort`: a Service's port becomes the pod port it targets.
    static func translateServicePorts(_ specs: [String], service: OrderedJSON, pod: OrderedJSON) throws -> [String] {
        let servicePorts = service[path: ["spec", "ports"]]?.arrayValue ?? []
        let serviceName = service[path: ["metadata", "name"]]?.stringValue ?? ""
        return try specs.map { spec in
            var (local, remote) = splitPort(spec)
            let number: Int
            if let value = Int(remote) {
                number = value
            } else {
                guard let port = servicePorts.first(where: { $0["name"]?.stringValue == remote }), let value = port["port"]?.intValue else {
                    throw KubectlError.message("error: Service '\(serviceName)' does not have a named port '\(remote)'")
                }
                number = Int(value)
                if local == remote { local = String(number) }
            }
            guard let servicePort = servicePorts.first(where: { $0["port"]?.intValue == Int64(number) }) else {
                throw KubectlError.message("error: Service \(serviceName) does not have a service port \(number)")
            }
            let container: Int
            switch servicePort["targetPort"] {
            case .string(let name)?: container = try containerPort(named: name, in: pod)
            case let target?: container = target.intValue.map { $0 == 0 ? number : Int($0) } ?? number
            case nil: container = number
            }
            return local != String(container) ? "\(local):\(container)" : String(container)
        }
    }
}
