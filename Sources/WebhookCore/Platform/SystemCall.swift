import CPlatform

/// An error number a system call failed with: swift-system's `Errno`,
/// reduced to what the library needs. Its description is the C library's
/// text ("No such file or directory"), for messages.
public struct Errno: Error, Equatable, Sendable, CustomStringConvertible {
    public var rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The calling thread's `errno` now.
    public static var current: Errno { Errno(rawValue: cplatform_errno()) }

    public static var interrupted: Errno { Errno(rawValue: EINTR) }
    public static var exists: Errno { Errno(rawValue: EEXIST) }
    public static var wouldBlock: Errno { Errno(rawValue: EWOULDBLOCK) }
    public static var noEntry: Errno { Errno(rawValue: ENOENT) }

    public var description: String { String(cString: strerror(rawValue)) }
}

/// The one way the library makes a system call that reports failure as -1
/// and `errno`: `body` runs again while it fails with EINTR (a signal the
/// broker handles must not fail a read), and any other failure is thrown.
/// (`close` is never retried: on Linux the descriptor is gone either way.)
@inline(__always)
public func systemCall<Value: FixedWidthInteger>(_ body: () -> Value) throws(Errno) -> Value {
    while true {
        let result = body()
        if result != -1 { return result }
        let error = Errno.current
        if error != .interrupted { throw error }
    }
}
