import CLinux
import Foundation

/// Runs blocking work (libcurl transfers, libarchive unpacking, fsync) on its own thread so that it
/// never occupies one of Swift concurrency's few cooperative threads (two on these machines).
public func onDedicatedThread<T: Sendable>(
    name: String = "onekube-blocking",
    _ body: @escaping @Sendable () throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
        startThread(named: name, stackSize: 1 << 20) {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
    }
}

/// Starts `body` on a thread of its own, named as ps, top -H and perf show it: Foundation's
/// Thread.name does not reach the kernel here (such threads showed a Dispatch queue's name).
public func startThread(named name: String, stackSize: Int, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread {
        _ = cz_set_thread_name(name)
        body()
    }
    thread.stackSize = stackSize
    thread.start()
}
