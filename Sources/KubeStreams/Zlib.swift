import CZlib

public struct ZlibError: Error, CustomStringConvertible, Equatable {
    public let call: String
    public let code: Int32
    public var description: String { "\(call): zlib error \(code)" }
}

/// One deflate stream with a preset dictionary, flushed (Z_SYNC_FLUSH) after every block: SPDY
/// compresses all header blocks of one direction of a connection as a single zlib stream.
public final class ZlibDeflater {
    private let stream: UnsafeMutablePointer<z_stream>

    public init(dictionary: [UInt8], level: Int32 = Z_DEFAULT_COMPRESSION) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        var result = cz_deflate_init(stream, level)
        guard result == Z_OK else {
            stream.deallocate()
            throw ZlibError(call: "deflateInit", code: result)
        }
        result = dictionary.withUnsafeBufferPointer { deflateSetDictionary(stream, $0.baseAddress, uInt($0.count)) }
        guard result == Z_OK else {
            deflateEnd(stream)
            stream.deallocate()
            throw ZlibError(call: "deflateSetDictionary", code: result)
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// The compressed form of `input`, ending on a byte boundary so the reader can decode it alone.
    public func compress(_ input: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(256, input.count + 64))
        try input.withUnsafeBufferPointer { inputBuffer in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: inputBuffer.baseAddress)
            stream.pointee.avail_in = uInt(inputBuffer.count)
            repeat {
                let produced = try chunk.withUnsafeMutableBufferPointer { out -> Int in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    let result = deflate(stream, Z_SYNC_FLUSH)
                    guard result == Z_OK || result == Z_BUF_ERROR else { throw ZlibError(call: "deflate", code: result) }
                    return out.count - Int(stream.pointee.avail_out)
                }
                output += chunk[0..<produced]
            } while stream.pointee.avail_out == 0
            stream.pointee.next_in = nil
        }
        return output
    }
}

/// The reading side of `ZlibDeflater`: one inflate stream across blocks, the dictionary supplied
/// when the stream asks for it.
public final class ZlibInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let dictionary: [UInt8]

    public init(dictionary: [UInt8]) throws {
        self.dictionary = dictionary
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let result = cz_inflate_init(stream)
        guard result == Z_OK else {
            stream.deallocate()
            throw ZlibError(call: "inflateInit", code: result)
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    public func decompress(_ input: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        try input.withUnsafeBufferPointer { inputBuffer in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: inputBuffer.baseAddress)
            stream.pointee.avail_in = uInt(inputBuffer.count)
            while true {
                let (produced, result) = chunk.withUnsafeMutableBufferPointer { out -> (Int, Int32) in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    let result = inflate(stream, Z_SYNC_FLUSH)
                    return (out.count - Int(stream.pointee.avail_out), result)
                }
                output += chunk[0..<produced]
                switch result {
                case Z_NEED_DICT:
                    let set = dictionary.withUnsafeBufferPointer { inflateSetDictionary(stream, $0.baseAddress, uInt($0.count)) }
                    guard set == Z_OK else { throw ZlibError(call: "inflateSetDictionary", code: set) }
                case Z_OK:
                    if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
                case Z_BUF_ERROR:
                    return  // no progress possible: all input consumed
                case Z_STREAM_END:
                    return
                default:
                    throw ZlibError(call: "inflate", code: result)
                }
            }
        }
        return output
    }
}
