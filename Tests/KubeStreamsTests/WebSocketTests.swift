import Testing
@testable import KubeStreams

/// A frame as a client sends it: masked.
func clientFrame(_ opcode: WebSocket.Opcode, _ payload: [UInt8], fin: Bool = true, mask: [UInt8] = [0x37, 0xfa, 0x21, 0x3d]) -> [UInt8] {
    var frame = WebSocket.frame(opcode, payload, fin: fin)
    let headerLength = frame.count - payload.count
    frame[1] |= 0x80
    let masked = payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
    return Array(frame[0..<headerLength]) + mask + masked
}

@Suite struct WebSocketTests {
    @Test func acceptKeyIsTheRFCExample() {
        #expect(WebSocket.acceptKey(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func negotiatesTheFirstSupportedOfferedProtocol() {
        #expect(WebSocket.negotiate(offered: ["v4.channel.k8s.io, v5.channel.k8s.io"], supported: ChannelProtocol.supported) == "v5.channel.k8s.io")
        #expect(WebSocket.negotiate(offered: ["base64.channel.k8s.io", "v4.channel.k8s.io"], supported: ChannelProtocol.supported) == "v4.channel.k8s.io")
        #expect(WebSocket.negotiate(offered: ["channel.k8s.io"], supported: ChannelProtocol.supported) == nil)
    }

    @Test(arguments: [0, 5, 125, 126, 65535, 65536, 70000])
    func serverFramesCarryTheLengthForm(count: Int) {
        let frame = WebSocket.frame(.binary, [UInt8](repeating: 7, count: count))
        #expect(frame[0] == 0x82)
        let header = count < 126 ? 2 : count <= 65535 ? 4 : 10
        #expect(frame.count == header + count)
        #expect(frame[1] & 0x80 == 0)
    }

    @Test(arguments: [0, 1, 125, 126, 300, 70000])
    func readsMaskedFramesSplitAnywhere(count: Int) throws {
        let payload = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let bytes = clientFrame(.binary, payload) + clientFrame(.ping, [1, 2])
        var reader = WebSocketReader()
        var messages: [WebSocketMessage] = []
        for chunk in stride(from: 0, to: bytes.count, by: 97).map({ Array(bytes[$0..<min($0 + 97, bytes.count)]) }) {
            reader.append(chunk)
            while let message = try reader.next() { messages.append(message) }
        }
        #expect(messages == [.binary(payload), .ping([1, 2])])
    }

    @Test func reassemblesFragmentsAroundControlFrames() throws {
        var reader = WebSocketReader()
        reader.append(clientFrame(.binary, [1, 2], fin: false) + clientFrame(.ping, []) + clientFrame(.continuation, [3], fin: false)
                      + clientFrame(.continuation, [4], fin: true) + clientFrame(.close, [0x03, 0xE8] + Array("bye".utf8)))
        #expect(try reader.next() == .ping([]))
        #expect(try reader.next() == .binary([1, 2, 3, 4]))
        #expect(try reader.next() == .close(1000, "bye"))
        #expect(try reader.next() == nil)
    }

    @Test func refusesUnmaskedClientFrames() {
        var reader = WebSocketReader()
        reader.append(WebSocket.frame(.binary, [1]))
        #expect(throws: WebSocketError.self) { try reader.next() }
    }

    @Test(arguments: [0, 5, 126, 70000])
    func clientFramesAreMaskedAndReadByTheServer(count: Int) throws {
        let payload = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 3) }
        let frame = WebSocket.maskedFrame(.binary, payload, mask: [0x37, 0xfa, 0x21, 0x3d])
        #expect(frame == clientFrame(.binary, payload))
        var reader = WebSocketReader()
        reader.append(WebSocket.clientFrame(.binary, payload) + WebSocket.clientCloseFrame(code: WebSocket.normalClosure))
        #expect(try reader.next() == .binary(payload))
        #expect(try reader.next() == .close(1000, ""))
    }

    @Test func aClientReadsUnmaskedServerFramesOnly() throws {
        var reader = WebSocketReader(readsClientFrames: false)
        reader.append(WebSocket.frame(.binary, [3, 1]) + WebSocket.closeFrame(code: 1000))
        #expect(try reader.next() == .binary([3, 1]))
        #expect(try reader.next() == .close(1000, ""))
        reader.append(clientFrame(.binary, [1]))
        #expect(throws: WebSocketError.self) { try reader.next() }
    }

    @Test func clientKeysAreFreshSixteenByteNonces() {
        let key = WebSocket.clientKey()
        #expect(key.count == 24 && key.hasSuffix("=="))
        #expect(key != WebSocket.clientKey())
    }

    @Test func closeFrameCarriesTheCode() {
        #expect(WebSocket.closeFrame(code: 1000) == [0x88, 2, 0x03, 0xE8])
    }
}

@Suite struct ChannelProtocolTests {
    @Test func decodesDataAndClose() {
        #expect(ChannelMessage.decode([0, 104, 105]) == .data(.stdin, [104, 105]))
        #expect(ChannelMessage.decode([4] + Array("{}".utf8)) == .data(.resize, Array("{}".utf8)))
        #expect(ChannelMessage.decode([255, 0]) == .closed(.stdin))
        #expect(ChannelMessage.decode([]) == nil)
        #expect(ChannelMessage.decode([9, 1]) == nil)
        #expect(ChannelMessage.encode(.stdout, [1]) == [1, 1])
    }

    @Test func resizeReaderSplitsObjects() {
        var reader = ResizeReader()
        #expect(reader.append(Array("{\"Width\":100,\"Hei".utf8)) == [])
        #expect(reader.append(Array("ght\":30}\n{\"Width\":80,\"Height\":24}".utf8)) == [TerminalSize(width: 100, height: 30), TerminalSize(width: 80, height: 24)])
    }

    @Test func exitStatusIsWhatKubectlReads() {
        #expect(String(decoding: RemoteCommand.exitStatus(0, command: ["true"]), as: UTF8.self) == #"{"metadata":{},"status":"Success"}"#)
        let failure = String(decoding: RemoteCommand.exitStatus(3, command: ["sh", "-c", "exit 3"]), as: UTF8.self)
        #expect(failure.contains(#""reason":"NonZeroExitCode""#))
        #expect(failure.contains(#"{"reason":"ExitCode","message":"3"}"#))
        #expect(failure.contains("error executing command [sh -c exit 3], exit code 3"))
    }

    @Test func expectedStreamsFollowTheOptions() {
        #expect(RemoteCommand.expectedStreams(stdin: false, stdout: true, stderr: true, tty: false) == [.error, .stdout, .stderr])
        #expect(RemoteCommand.expectedStreams(stdin: true, stdout: true, stderr: false, tty: true) == [.error, .stdin, .stdout, .resize])
    }
}
