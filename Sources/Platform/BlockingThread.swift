import Foundation

/// Runs blocking work (libcurl transfers, libarchive unpacking, fsync) on its own thread so that it
/// never occupies one of Swift concurrency's few cooperative threads (two on these machines).
public func onDedicatedThread<T: Sendable>(
    name: String = "onekube-blocking",
    _ body: @escaping @Sendable () throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }
}
