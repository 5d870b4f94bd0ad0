import CLinux
import Glibc
import Logging
import NIOCore

/// One accepted connection and its backend connection on the splice loop: connects to the
/// first backend that accepts (each but the last within the connect timeout), then moves bytes both ways
/// with half-closes carried across and back-pressure from the slower side; when no backend
/// accepts, the client gets a reset.
final class SplicedConnection: SpliceLoopMember {
    private let client: Int32
    private var clientToken: UInt64 = 0
    private var backend: Int32 = -1
    private var backendToken: UInt64 = 0
    private var untried: ArraySlice<SocketAddress>
    private var attempt = 0
    private var connecting = true
    private var closed = false
    private var upstream = SpliceDirection()   // client → backend
    private var downstream = SpliceDirection() // backend → client

    /// Edge-triggered: every pump runs until the kernel says EAGAIN, and the next edge
    /// (new bytes, room to write, a half-close) brings the loop back.
    static let watched = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue

    /// Takes over `client` (a non-blocking accepted socket) and starts connecting.
    init(client: Int32, backends: [SocketAddress], loop: SpliceLoop) {
        self.client = client
        untried = backends[...]
        clientToken = loop.newToken(for: self)
        guard loop.watch(client, token: clientToken, events: Self.watched) else {
            loop.logger.warning("epoll_ctl for an accepted connection failed", metadata: ["error": "\(String(cString: strerror(errno)))"])
            loop.forget(clientToken)
            Self.reset(client)
            closed = true
            return
        }
        connectNext(loop: loop)
    }

    func isConnecting(attempt: Int) -> Bool { connecting && !closed && self.attempt == attempt }

    func handle(events: UInt32, token: UInt64, loop: SpliceLoop) {
        guard !closed else { return }
        if connecting {
            // The client's events wait: its bytes stay in the kernel until the backend is there.
            if token == backendToken { finishConnect(events: events, loop: loop) }
            return
        }
        let readable = events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
        let writable = events & (EPOLLOUT.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
        var healthy = true
        if token == clientToken {
            if readable { healthy = upstream.pump(from: client, to: backend, pipes: loop.pipes) }
            if writable && healthy { healthy = downstream.pump(from: backend, to: client, pipes: loop.pipes) }
        } else if token == backendToken {
            if readable { healthy = downstream.pump(from: backend, to: client, pipes: loop.pipes) }
            if writable && healthy { healthy = upstream.pump(from: client, to: backend, pipes: loop.pipes) }
        }
        if !healthy || (upstream.finished && downstream.finished) { close(loop: loop) }
    }

    // MARK: Connecting

    private func connectNext(loop: SpliceLoop) {
        while let address = untried.popFirst() {
            let fd = socket(address.protocol.rawValue, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else {
                loop.logger.warning("socket for a backend connection failed", metadata: ["backend": "\(address)", "error": "\(String(cString: strerror(errno)))"])
                continue
            }
            Self.disableNagle(fd)
            let started = address.withSockAddr { connect(fd, $0, socklen_t($1)) }
            guard started == 0 || errno == EINPROGRESS else {
                loop.logger.debug("backend connect failed", metadata: ["backend": "\(address)", "error": "\(String(cString: strerror(errno)))"])
                Glibc.close(fd)
                continue
            }
            attempt += 1
            backend = fd
            backendToken = loop.newToken(for: self)
            guard loop.watch(fd, token: backendToken, events: Self.watched) else {
                dropBackend(loop: loop)
                continue
            }
            // A backend slow to accept (its listen queue full: the kernel drops the SYN and
            // retries it after 1, 3, 7 s…) is given up on only for another one; the last is
            // waited for as a direct client would wait for it.
            if !untried.isEmpty { loop.connectStarted(self, attempt: attempt) }
            return
        }
        // Nowhere to send it.
        loop.forget(clientToken)
        Self.reset(client)
        closed = true
    }

    private func finishConnect(events: UInt32, loop: SpliceLoop) {
        var failure: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(backend, SOL_SOCKET, SO_ERROR, &failure, &length)
        if failure == 0 && events & EPOLLOUT.rawValue == 0 { return }
        if failure != 0 || events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
            loop.logger.debug("backend connect failed", metadata: ["error": "\(String(cString: strerror(failure)))"])
            dropBackend(loop: loop)
            connectNext(loop: loop)
            return
        }
        connecting = false
        // Whatever came while connecting, both ways, and the edges already spent on it.
        let healthy = upstream.pump(from: client, to: backend, pipes: loop.pipes)
            && downstream.pump(from: backend, to: client, pipes: loop.pipes)
        if !healthy || (upstream.finished && downstream.finished) { close(loop: loop) }
    }

    func connectTimedOut(attempt: Int, loop: SpliceLoop) {
        guard isConnecting(attempt: attempt) else { return }
        loop.logger.debug("backend connect timed out")
        dropBackend(loop: loop)
        connectNext(loop: loop)
    }

    private func dropBackend(loop: SpliceLoop) {
        loop.forget(backendToken)
        Glibc.close(backend)
        backend = -1
    }

    // MARK: Closing

    private func close(loop: SpliceLoop) {
        closed = true
        loop.forget(clientToken)
        loop.forget(backendToken)
        Glibc.close(client)
        Glibc.close(backend)
        upstream.release(to: loop.pipes)
        downstream.release(to: loop.pipes)
    }

    /// Closes with an RST (SO_LINGER 0): as close to kube-proxy's "connection refused" as an
    /// accepted connection gets, rather than a FIN that reads as an empty answer.
    static func reset(_ fd: Int32) {
        var immediate = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &immediate, socklen_t(MemoryLayout<linger>.size))
        Glibc.close(fd)
    }

    /// Small writes (a request, an answer's head) go out at once instead of waiting for the
    /// previous segment's acknowledgement: what each side sent arrives as it was sent.
    static func disableNagle(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }
}

/// One direction of a spliced connection: source socket → pipe → destination socket.
struct SpliceDirection {
    private var pipe: SplicePipe?
    /// Bytes in the pipe, read but not yet written.
    private var buffered = 0
    private var sourceEnded = false
    /// The source's EOF has been passed on (SHUT_WR on the destination).
    private(set) var finished = false

    /// Moves what can move now; false when either socket failed (the connection must close).
    mutating func pump(from source: Int32, to destination: Int32, pipes: SplicePipePool) -> Bool {
        if finished { return true }
        if pipe == nil { pipe = pipes.take() }
        guard let pipe else { return false }
        while true {
            var progressed = false
            if buffered > 0 {
                let written = cz_splice(pipe.readEnd, destination, buffered)
                if written > 0 {
                    buffered -= written
                    progressed = true
                } else if written < 0 && errno != EAGAIN {
                    return false
                }
            }
            // Read only into room the pipe has; with an empty pipe an EAGAIN surely means the
            // socket is drained (a partly full pipe may refuse for lack of slots instead, and
            // then the destination's next edge brings us back).
            if !sourceEnded && buffered < pipe.capacity {
                let read = cz_splice(source, pipe.writeEnd, pipe.capacity - buffered)
                if read > 0 {
                    buffered += read
                    progressed = true
                } else if read == 0 {
                    sourceEnded = true
                    progressed = true
                } else if errno != EAGAIN {
                    return false
                }
            }
            if sourceEnded && buffered == 0 {
                shutdown(destination, Int32(SHUT_WR))
                finished = true
                return true
            }
            if !progressed { return true }
        }
    }

    mutating func release(to pipes: SplicePipePool) {
        if let pipe { pipes.give(back: pipe, empty: buffered == 0) }
        pipe = nil
    }
}
