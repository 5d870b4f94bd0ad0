import CLinux
import Glibc
import NIOCore
import NIOPosix
import Platform
import Synchronization

/// The standard descriptors of one process run: pipes, or a pseudo-terminal when `tty` (made by
/// the process inside the container and passed back over a console socket). The daemon's ends are
/// NIO pipe channels; output goes to an `OutputHub`, input comes from attach sessions. `drained`
/// completes when the process side has closed all its output.
final class ProcessIO: Sendable {
    struct Options {
        var tty: Bool
        var openStdin: Bool
    }

    /// The descriptors for the helper's fds 0, 1 and 2 (and 5, the console socket, with a
    /// terminal); `closeChildEnds` after spawning it.
    let childStdio: (Int32, Int32, Int32)
    let consoleSocket: Int32?
    private let parentEnds: [Int32]
    private let tty: Bool
    private let hub: OutputHub
    private struct Channels {
        var input: Channel?
        var outputs: [Channel] = []
        var resizeFD: Int32 = -1
        var started = false
        /// Input that came before the channels existed, and whether its end came too.
        var pendingInput: [UInt8] = []
        var inputEnded = false
    }

    private let channels = Mutex(Channels())
    private let childEndsOpen = Mutex(true)

    init(_ options: Options, hub: OutputHub) throws {
        self.hub = hub
        tty = options.tty
        if options.tty {
            var pair: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
                throw SystemError("socketpair", path: "console socket")
            }
            let null = open("/dev/null", O_RDWR | O_CLOEXEC)
            guard null >= 0 else { throw SystemError("open", path: "/dev/null") }
            childStdio = (null, null, null)
            consoleSocket = pair[1]
            parentEnds = [pair[0]]
        } else {
            let stdinFD: Int32
            var stdinWrite: Int32 = -1
            if options.openStdin {
                var fds: [Int32] = [-1, -1]
                guard cz_pipe_cloexec(&fds) == 0 else { throw SystemError("pipe2") }
                stdinFD = fds[0]
                stdinWrite = fds[1]
            } else {
                stdinFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
                guard stdinFD >= 0 else { throw SystemError("open", path: "/dev/null") }
            }
            var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
            guard cz_pipe_cloexec(&out) == 0, cz_pipe_cloexec(&err) == 0 else { throw SystemError("pipe2") }
            childStdio = (stdinFD, out[1], err[1])
            consoleSocket = nil
            parentEnds = [out[0], err[0], stdinWrite]
        }
    }

    /// After the helper was spawned (it has its own copies) or failed to spawn.
    func closeChildEnds() {
        let wasOpen = childEndsOpen.withLock { open in
            defer { open = false }
            return open
        }
        guard wasOpen else { return }
        for fd in Set([childStdio.0, childStdio.1, childStdio.2] + (consoleSocket.map { [$0] } ?? [])) { close(fd) }
    }

    /// Hands the daemon's ends to NIO: output to the hub, and a channel for stdin. With a
    /// terminal, first waits for its master (or for the process to fail before making one).
    func start(group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws {
        let hub = self.hub
        if tty {
            let socket = parentEnds[0]
            let master = try await onDedicatedThread(name: "onekube-console") { () -> Int32 in
                defer { close(socket) }
                return cz_recv_fd(socket)
            }
            guard master >= 0 else { return }
            let resizeFD = fcntl(master, F_DUPFD_CLOEXEC, 0)
            let channel = try await NIOPipeBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(OutputReader(hub: hub, stream: .stdout))
                    }
                }
                .takingOwnershipOfDescriptor(inputOutput: master).get()
            becomeStarted(input: channel, outputs: [channel], resizeFD: resizeFD)
        } else {
            var outputs: [Channel] = []
            for (fd, stream) in [(parentEnds[0], OutputStream.stdout), (parentEnds[1], .stderr)] {
                let channel = try await NIOPipeBootstrap(group: group)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(OutputReader(hub: hub, stream: stream))
                        }
                    }
                    .takingOwnershipOfDescriptor(input: fd).get()
                outputs.append(channel)
            }
            var input: Channel?
            if parentEnds[2] >= 0 {
                input = try await NIOPipeBootstrap(group: group).takingOwnershipOfDescriptor(output: parentEnds[2]).get()
            }
            becomeStarted(input: input, outputs: outputs, resizeFD: -1)
        }
    }

    /// Input queued before now goes out first; NIO keeps the order of writes issued in lock order.
    private func becomeStarted(input: Channel?, outputs: [Channel], resizeFD: Int32) {
        let tty = self.tty
        channels.withLock { state in
            state.input = input
            state.outputs = outputs
            state.resizeFD = resizeFD
            state.started = true
            if let input, !state.pendingInput.isEmpty { input.writeAndFlush(ByteBuffer(bytes: state.pendingInput), promise: nil) }
            if let input, state.inputEnded, !tty { input.close(promise: nil) }
            state.pendingInput = []
        }
    }

    /// Completes when every output channel has closed (the process and its children are gone).
    func drained() async {
        let outputs = channels.withLock { $0.outputs }
        for channel in outputs { try? await channel.closeFuture.get() }
    }

    /// Queues bytes for the process's stdin, in call order (held until the channels exist).
    func writeInput(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        channels.withLock { state in
            if let input = state.input {
                input.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
            } else if !state.started {
                state.pendingInput += bytes
            }
        }
    }

    /// EOF on the process's stdin after what was queued (a pipe; a terminal keeps its input
    /// open, as Docker does).
    func closeInput() {
        guard !tty else { return }
        channels.withLock { state in
            if let input = state.input {
                // After the queued writes: closing at once would drop what the pipe has not taken yet.
                input.writeAndFlush(ByteBuffer()).whenComplete { _ in input.close(promise: nil) }
            } else if !state.started {
                state.inputEnded = true
            }
        }
    }

    func resize(rows: UInt16, columns: UInt16) {
        let fd = channels.withLock { $0.resizeFD }
        if fd >= 0 { _ = cz_set_winsize(fd, rows, columns) }
    }

    /// Closes whatever is still open on the daemon's side.
    func shutdown() {
        let (input, outputs, resizeFD) = channels.withLock { state in
            defer {
                state.input = nil
                state.outputs = []
                state.resizeFD = -1
            }
            return (state.input, state.outputs, state.resizeFD)
        }
        input?.close(promise: nil)
        for channel in outputs { channel.close(promise: nil) }
        if resizeFD >= 0 { close(resizeFD) }
    }
}

/// Reads one output descriptor into the hub.
private final class OutputReader: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    let hub: OutputHub
    let stream: OutputStream

    init(hub: OutputHub, stream: OutputStream) {
        self.hub = hub
        self.stream = stream
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        hub.publish(stream, Array(buffer.readableBytesView))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A terminal's master reads EIO once every slave descriptor is closed: that is its EOF.
        context.close(promise: nil)
    }
}
