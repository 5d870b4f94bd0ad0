import KubeStreams
import Logging
import NIOCore
import Synchronization

/// Our side of a SPDY/3.1 connection: frames are encoded and queued under one lock, because the
/// header compression is one stream whose order the client must see.
final class SPDYConnection: Sendable {
    private let encoder: Mutex<SPDYFrameEncoder>
    private let sink: ByteSink

    init(sink: @escaping ByteSink) throws {
        encoder = Mutex(try SPDYFrameEncoder())
        self.sink = sink
    }

    func send(_ frame: SPDYFrame) async throws {
        let future = try encoder.withLock { encoder in sink(try encoder.encode(frame)) }
        try await future.get()
    }

    /// Data in frames of at most 32 KiB.
    func sendData(_ streamID: UInt32, _ bytes: [UInt8]) async throws {
        var offset = 0
        repeat {
            let end = min(offset + 32768, bytes.count)
            try await send(.data(streamID: streamID, flags: 0, payload: Array(bytes[offset..<end])))
            offset = end
        } while offset < bytes.count
    }

    func finish(_ streamID: UInt32) async {
        try? await send(.data(streamID: streamID, flags: SPDYFrame.flagFin, payload: []))
    }
}

/// Frames from the client, decoded as bytes arrive.
struct SPDYFrameSource {
    var source: any ByteSource
    let decoder: SPDYFrameDecoder

    init(_ source: any ByteSource) throws {
        self.source = source
        decoder = try SPDYFrameDecoder()
    }

    mutating func next() async throws -> SPDYFrame? {
        while true {
            if let frame = try decoder.next() { return frame }
            guard let chunk = try await source.next() else { return nil }
            decoder.append(chunk)
        }
    }
}

/// A Mutex that tasks can share (a Mutex itself cannot be captured).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T { try mutex.withLock { try body(&$0) } }
}

enum SessionPhase: Sendable { case inputEnded, outputDone, lingerOver }

/// How long the client gets to read the end and close after we said everything.
let lingerTime = Duration.seconds(5)

enum SPDYSessions {
    /// exec and attach over SPDY (remotecommand v4): the client opens one stream per stdio
    /// stream; the process starts once all expected streams are there; the Status JSON goes on
    /// the error stream at the end.
    static func remoteCommand(
        source makeSource: @escaping @Sendable () -> any ByteSource, connection: SPDYConnection, session: any ContainerStreamSession,
        expected: Set<RemoteCommand.StreamType>, command: [String]?, logger: Logger
    ) async {
        let streams = Locked<[RemoteCommand.StreamType: UInt32]>([:])
        let (ready, readySignal) = AsyncStream<Void>.makeStream()
        await withTaskGroup(of: SessionPhase.self) { group in
            group.addTask {
                var frames: SPDYFrameSource
                do { frames = try SPDYFrameSource(makeSource()) } catch { return .inputEnded }
                var types: [UInt32: RemoteCommand.StreamType] = [:]
                var resize = ResizeReader()
                do {
                    while let frame = try await frames.next() {
                        switch frame {
                        case .synStream(let id, _, _, let flags, let headers):
                            guard let type = headers["streamtype"].flatMap(RemoteCommand.StreamType.init(rawValue:)) else {
                                try await connection.send(.rstStream(streamID: id, status: SPDYFrame.protocolError))
                                continue
                            }
                            types[id] = type
                            try await connection.send(.synReply(streamID: id, flags: 0, headers: SPDYHeaders()))
                            if type == .stdin && flags & SPDYFrame.flagFin != 0 { session.closeStdin() }
                            let complete = streams.withLock { known in
                                known[type] = id
                                return expected.isSubset(of: Set(known.keys))
                            }
                            if complete {
                                readySignal.yield()
                                readySignal.finish()
                            }
                        case .data(let id, let flags, let payload):
                            switch types[id] {
                            case .stdin:
                                if !payload.isEmpty { session.writeStdin(payload) }
                                if flags & SPDYFrame.flagFin != 0 { session.closeStdin() }
                            case .resize:
                                for size in resize.append(payload) { session.resize(width: size.width, height: size.height) }
                            default: break
                            }
                        case .rstStream(let id, _):
                            if types[id] == .stdin { session.closeStdin() }
                        case .ping(let id):
                            try await connection.send(.ping(id: id))
                        case .goAway:
                            return .inputEnded
                        default: break
                        }
                    }
                } catch {
                    logger.debug("spdy input ended", metadata: ["error": "\(error)"])
                }
                return .inputEnded
            }
            group.addTask {
                var signal = ready.makeAsyncIterator()
                guard await signal.next() != nil else { return .outputDone }
                let ids = streams.withLock { $0 }
                let status: [UInt8]
                do {
                    let output = try await session.start()
                    for await chunk in output {
                        guard let id = ids[chunk.stream == .stderr ? .stderr : .stdout] else { continue }
                        try await connection.sendData(id, chunk.bytes)
                    }
                    status = RemoteCommand.status(of: session.outcome(), command: command ?? [])
                } catch {
                    status = RemoteCommand.internalErrorStatus("\(error)")
                }
                if let id = ids[.stdout] { await connection.finish(id) }
                if let id = ids[.stderr] { await connection.finish(id) }
                if let id = ids[.error] {
                    try? await connection.sendData(id, status)
                    await connection.finish(id)
                }
                return .outputDone
            }
            await runUntilDone(&group)
        }
    }

    /// Port-forward over SPDY: each request's error and data stream pair is one TCP connection
    /// to the pod; the session lasts until the client goes away.
    static func portForward(
        source makeSource: @escaping @Sendable () -> any ByteSource, connection: SPDYConnection, pod: PodAddress, streaming: any PodStreaming, logger: Logger
    ) async {
        let (pairs, newPair) = AsyncStream<(PortForwardProtocol.StreamPair, AsyncStream<[UInt8]>)>.makeStream()
        await withDiscardingTaskGroup { group in
            group.addTask {
                var frames: SPDYFrameSource
                do { frames = try SPDYFrameSource(makeSource()) } catch { newPair.finish(); return }
                var pairing = PortForwardPairing()
                var inputs: [UInt32: AsyncStream<[UInt8]>.Continuation] = [:]
                do {
                    while let frame = try await frames.next() {
                        switch frame {
                        case .synStream(let id, _, _, _, let headers):
                            switch pairing.add(streamID: id, headers: headers) {
                            case .invalid(let message):
                                logger.debug("port-forward stream refused", metadata: ["reason": "\(message)"])
                                try await connection.send(.rstStream(streamID: id, status: SPDYFrame.protocolError))
                                continue
                            case .waiting:
                                try await connection.send(.synReply(streamID: id, flags: 0, headers: SPDYHeaders()))
                            case .complete(let pair):
                                try await connection.send(.synReply(streamID: id, flags: 0, headers: SPDYHeaders()))
                                let (input, continuation) = AsyncStream<[UInt8]>.makeStream()
                                inputs[pair.dataStream] = continuation
                                newPair.yield((pair, input))
                            }
                        case .data(let id, let flags, let payload):
                            guard let input = inputs[id] else { continue }
                            if !payload.isEmpty { input.yield(payload) }
                            if flags & SPDYFrame.flagFin != 0 {
                                input.finish()
                                inputs[id] = nil
                            }
                        case .rstStream(let id, _):
                            inputs.removeValue(forKey: id)?.finish()
                        case .ping(let id):
                            try await connection.send(.ping(id: id))
                        case .goAway:
                            break
                        default: break
                        }
                    }
                } catch {
                    logger.debug("spdy input ended", metadata: ["error": "\(error)"])
                }
                for input in inputs.values { input.finish() }
                newPair.finish()
            }
            for await (pair, input) in pairs {
                group.addTask {
                    do {
                        try await streaming.forward(pod, port: pair.port, input: input) { bytes in
                            try await connection.sendData(pair.dataStream, bytes)
                        }
                    } catch {
                        let message = "error forwarding port \(pair.port) to pod \(pod.pod), uid \(pod.uid): \(error)"
                        try? await connection.sendData(pair.errorStream, Array(message.utf8))
                    }
                    await connection.finish(pair.dataStream)
                    await connection.finish(pair.errorStream)
                }
            }
            // The client went away: stop every forward still running.
            group.cancelAll()
        }
    }

    /// Waits for the output to end, then lets the client close (it reads to the end first)
    /// for a while; a client that goes away first ends everything at once.
    static func runUntilDone(_ group: inout TaskGroup<SessionPhase>) async {
        while let phase = await group.next() {
            switch phase {
            case .outputDone:
                group.addTask {
                    try? await Task.sleep(for: lingerTime)
                    return .lingerOver
                }
            case .inputEnded, .lingerOver:
                group.cancelAll()
                return
            }
        }
    }
}
