import CZlib
import Testing
@testable import KubeStreams

@Suite struct SPDYTests {
    @Test func dictionaryIsTheSPDY3One() {
        let dictionary = SPDYDictionary.bytes
        #expect(dictionary.count == 1423)
        let checksum = dictionary.withUnsafeBufferPointer { adler32(1, $0.baseAddress, uInt($0.count)) }
        #expect(checksum == 0xE3C6A7C2)
        #expect(Array(dictionary.prefix(11)) == [0, 0, 0, 7] + Array("options".utf8))
    }

    @Test func framesRoundTripThroughOneCompressionStream() throws {
        let encoder = try SPDYFrameEncoder()
        let decoder = try SPDYFrameDecoder()
        let frames: [SPDYFrame] = [
            .synStream(streamID: 1, associatedTo: 0, priority: 0, flags: 0,
                       headers: SPDYHeaders([("streamtype", "error"), ("port", "8080"), ("requestid", "0")])),
            .synStream(streamID: 3, associatedTo: 0, priority: 2, flags: SPDYFrame.flagFin,
                       headers: SPDYHeaders([("streamtype", "data"), ("port", "8080"), ("requestid", "0")])),
            .synReply(streamID: 1, flags: 0, headers: SPDYHeaders()),
            .data(streamID: 3, flags: SPDYFrame.flagFin, payload: Array("hello".utf8)),
            .data(streamID: 5, flags: 0, payload: []),
            .rstStream(streamID: 3, status: SPDYFrame.cancel),
            .settings(flags: 0, entries: [SPDYSetting(flags: 0, id: 7, value: 65536)]),
            .ping(id: 1),
            .goAway(lastGoodStreamID: 3, status: 0),
            .headers(streamID: 1, flags: 0, headers: SPDYHeaders([("x", "a"), ("x", "b")])),
            .windowUpdate(streamID: 1, delta: 1000),
        ]
        var wire: [UInt8] = []
        for frame in frames { wire += try encoder.encode(frame) }
        var decoded: [SPDYFrame] = []
        // One byte at a time: the decoder must wait for whole frames.
        for byte in wire {
            decoder.append([byte])
            while let frame = try decoder.next() { decoded.append(frame) }
        }
        #expect(decoded == frames)
    }

    @Test func headerNamesAreLowercaseAndMultiValued() throws {
        var headers = SPDYHeaders([("StreamType", "stdout")])
        headers.add("x-stream-protocol-version", "v4.channel.k8s.io")
        headers.add("X-Stream-Protocol-Version", "v3.channel.k8s.io")
        #expect(headers["streamtype"] == "stdout")
        let block = headers.block()
        let parsed = try SPDYHeaders(block: block)
        #expect(parsed.fields.map(\.name) == ["streamtype", "x-stream-protocol-version"])
        #expect(parsed.fields[1].values == ["v4.channel.k8s.io", "v3.channel.k8s.io"])
    }

    @Test func controlFrameLayout() throws {
        let encoder = try SPDYFrameEncoder()
        #expect(try encoder.encode(.ping(id: 1)) == [0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1])
        #expect(try encoder.encode(.data(streamID: 2, flags: 1, payload: [9])) == [0, 0, 0, 2, 1, 0, 0, 1, 9])
    }

    @Test func pairsPortForwardStreamsByRequestID() {
        var pairing = PortForwardPairing()
        #expect(pairing.add(streamID: 1, headers: SPDYHeaders([("streamType", "error"), ("port", "8080"), ("requestID", "0")])) == .waiting)
        #expect(pairing.add(streamID: 5, headers: SPDYHeaders([("streamType", "error"), ("port", "9090"), ("requestID", "1")])) == .waiting)
        #expect(pairing.add(streamID: 3, headers: SPDYHeaders([("streamType", "data"), ("port", "8080"), ("requestID", "0")]))
                == .complete(.init(requestID: "0", port: 8080, errorStream: 1, dataStream: 3)))
        if case .invalid = pairing.add(streamID: 7, headers: SPDYHeaders([("streamType", "data"), ("port", "x")])) {} else {
            Issue.record("a bad port is refused")
        }
    }
}
