import HTTPServer
import KubeStreams
import Logging

enum WebSocketSessions {
    /// exec and attach over `v4`/`v5.channel.k8s.io`: stdin and resize arrive on channels 0
    /// and 4, output leaves on 1 and 2; at the end the Status goes on channel 3, then a close
    /// frame (1000), without which kubectl reports an abnormal closure.
    static func remoteCommand(
        connection: UpgradedConnection, session: any ContainerStreamSession, command: [String]?, logger: Logger
    ) async {
        let output = WebSocketOutput(connection)
        await withTaskGroup(of: SessionPhase.self) { group in
            group.addTask {
                var input = WebSocketInput(connection, output: output)
                var resize = ResizeReader()
                do {
                    while let message = try await input.next() {
                        // The Python client sends stdin as text frames; the apiserver reads either kind.
                        let bytes: [UInt8]
                        switch message {
                        case .binary(let payload), .text(let payload): bytes = payload
                        default: continue
                        }
                        guard let decoded = ChannelMessage.decode(bytes) else { continue }
                        switch decoded {
                        case .data(.stdin, let payload): session.writeStdin(payload)
                        case .data(.resize, let payload):
                            for size in resize.append(payload) { session.resize(width: size.width, height: size.height) }
                        case .closed(.stdin): session.closeStdin()
                        default: break
                        }
                    }
                } catch {
                    logger.debug("websocket input ended", metadata: ["error": "\(error)"])
                }
                return .inputEnded
            }
            group.addTask {
                let status: [UInt8]
                do {
                    let stream = try await session.start()
                    for await chunk in stream {
                        try await output.send(.binary, ChannelMessage.encode(chunk.stream == .stderr ? .stderr : .stdout, chunk.bytes))
                    }
                    status = RemoteCommand.status(of: session.outcome(), command: command ?? [])
                } catch {
                    status = RemoteCommand.internalErrorStatus("\(error)")
                }
                try? await output.send(.binary, ChannelMessage.encode(.error, status))
                await output.close()
                return .outputDone
            }
            await SPDYSessions.runUntilDone(&group)
        }
    }
}
