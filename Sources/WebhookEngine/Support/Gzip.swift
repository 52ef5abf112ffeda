import CZlib

/// gzip, for request bodies (`compression = gzip`): zlib from Debian's
/// zlib1g, bound at run time like nng and SQLite (see czlib.h).
///
/// A stream per body, not one kept per connection: zlib's state is about
/// 256 KiB, and a pool of 32 connections would keep 8 MiB of it on a
/// gateway for bodies that are compressed a few times a second (batches).
enum Gzip {
    /// zlib's default: nearly all of the best ratio for JSON, at a third of its CPU.
    static let level: Int32 = 6

    /// Loads zlib, or throws why it cannot (once per process; checked at
    /// start and at a reload that turns compression on).
    static func load() throws(EngineError) {
        var reason = [CChar](repeating: 0, count: 512)
        guard czlib_load(&reason, reason.count) == 0 else {
            throw EngineError(String(cString: reason))
        }
    }

    /// `bytes` as one gzip member; nil only if zlib cannot allocate.
    static func compress(_ bytes: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        guard czlib_gzip_init(&stream, level) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        // deflateBound: the whole output fits, so one deflate call finishes it.
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))))
        var rv: Int32 = Z_STREAM_ERROR
        var produced = 0
        bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = output.baseAddress
                stream.avail_out = uInt(output.count)
                rv = deflate(&stream, Z_FINISH)
                produced = output.count - Int(stream.avail_out)
            }
        }
        guard rv == Z_STREAM_END else { return nil }
        out.removeLast(out.count - produced)
        return out
    }
}
