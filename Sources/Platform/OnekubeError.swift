import Glibc

/// The one error type the subsystems throw. `code` classifies it for the API layers (which map it to
/// Kubernetes `Status` and Docker's error JSON in one place each); `message` is what a user reads.
public struct OnekubeError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable, Equatable {
        case notFound, alreadyExists, conflict, invalidArgument, unauthorized, denied
        case tooManyRequests, digestMismatch, unsupported, unavailable, notRunning, internalError
    }

    public var code: Code
    public var message: String
    public var cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        guard let cause, !cause.isEmpty else { return message }
        return "\(message): \(cause)"
    }
}

/// A failed system call, naming the call and the path it was made on.
public struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
    public let call: String
    public let path: String?
    public let errno: Int32

    public init(_ call: String, path: String? = nil, errno: Int32 = Glibc.errno) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        if let path { return "\(call) \(path): \(reason)" }
        return "\(call): \(reason)"
    }
}

/// Calls `body` until it stops failing with EINTR; throws a `SystemError` on any other failure.
@discardableResult
public func retryingEINTR<T: BinaryInteger>(
    _ call: String, path: String? = nil, _ body: () -> T
) throws(SystemError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        if errno == EINTR { continue }
        throw SystemError(call, path: path)
    }
}
