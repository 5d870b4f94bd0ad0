import Foundation
import Glibc
import Platform
import Synchronization

/// A pod's sandbox as the runtime reports it.
public struct SandboxInfo: Sendable, Equatable {
    public var id: String
    /// The hostname its containers share (the pod's name).
    public var name: String
    public var pid: pid_t
    public var address: IPv4Address?
    public var gateway: IPv4Address?
    public var prefixLength: Int?
}

/// A sandbox: the process holding its namespaces, and what it holds on the host.
final class ManagedSandbox: Sendable {
    let info: SandboxInfo
    let attachment: NetworkAttachment?
    let exited = CompletionEvent<Int32>()

    init(info: SandboxInfo, attachment: NetworkAttachment?) {
        self.info = info
        self.attachment = attachment
    }
}

/// Pod sandboxes: network, IPC and UTS namespaces with the pod's address and hostname, held by a
/// process that only waits (the pause container of other runtimes). Containers created with a
/// `sandboxID` join them and keep their own PID and mount namespaces.
extension ContainerService {
    public func startSandbox(name: String, network useNetwork: Bool = true) async throws -> SandboxInfo {
        let id = ContainerNames.newID()
        let cgroupName = "sandbox-" + id
        let attachment = useNetwork ? try network.attachment(for: id) : nil
        var cgroupCreated = false
        do {
            let plan = try cgroups.create(cgroupName, limits: ResourceLimits())
            cgroupCreated = true
            let null = open("/dev/null", O_RDWR | O_CLOEXEC)
            guard null >= 0 else { throw SystemError("open", path: "/dev/null") }
            defer { close(null) }
            let spec = SandboxSpec(hostname: name, network: attachment, cgroupProcsFiles: plan.procsFiles)
            let ended = CompletionEvent<Int32>()
            let spawned = try await HelperLauncher.spawn(.sandbox, id: id, spec: spec, stdio: (null, null, null), zygote: zygote) { status in
                ended.complete(status)
            }
            let report = try await onDedicatedThread(name: "onekube-sandbox") { HelperLauncher.readReport(spawned.statusFD) }
            guard case .started(let pid) = report else {
                if case .failed(_, let message) = report { throw OnekubeError(.internalError, "could not start the sandbox: \(message)") }
                throw OnekubeError(.internalError, "could not start the sandbox")
            }
            let info = SandboxInfo(id: id, name: name, pid: pid, address: attachment?.address, gateway: attachment?.gateway,
                                   prefixLength: attachment?.prefixLength)
            let sandbox = ManagedSandbox(info: info, attachment: attachment)
            sandboxes.withLock { $0[id] = sandbox }
            Task {
                let status = await ended.wait() ?? 255
                sandboxes.withLock { _ = $0.removeValue(forKey: id) }
                try? cgroups.destroy(cgroupName)
                if let attachment { network.release(attachment) }
                sandbox.exited.complete(status)
            }
            return info
        } catch {
            if cgroupCreated { try? cgroups.destroy(cgroupName) }
            if let attachment { network.release(attachment) }
            throw error
        }
    }

    public func sandbox(_ id: String) -> SandboxInfo? {
        sandboxes.withLock { $0[id]?.info }
    }

    /// Ends the sandbox; containers that still run in it make this a conflict.
    public func stopSandbox(_ id: String) async throws {
        guard let sandbox = sandboxes.withLock({ $0[id] }) else { throw OnekubeError(.notFound, "No such sandbox: \(id)") }
        let users = containers.withLock { Array($0.values) }.filter { $0.run != nil && $0.record.config.sandboxID == id }
        guard users.isEmpty else {
            throw OnekubeError(.conflict, "sandbox \(id) still has running containers: " + users.map(\.record.name).joined(separator: ", "))
        }
        Glibc.kill(sandbox.info.pid, SIGTERM)
        if await sandbox.exited.wait(timeout: 5) == nil {
            Glibc.kill(sandbox.info.pid, SIGKILL)
            _ = await sandbox.exited.wait()
        }
    }
}
