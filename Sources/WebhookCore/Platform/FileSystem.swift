import CPlatform

/// The few file-system calls config loading needs. Written on libc so the
/// library does not pull Foundation (and its ICU data) into a broker plugin.
public enum FileSystem {
    /// Largest config file we read: far beyond any real nanomq.conf, small
    /// enough that a wrong path (a device, a log file) fails fast.
    public static let maxConfigSize = 16 << 20

    public enum ReadError: Error, Equatable {
        case cannotOpen(String)
        case tooLarge
        case notRegularFile
    }

    public static func readFile(_ path: String) -> Result<[UInt8], ReadError> {
        do throws(Errno) {
            // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
            // writer, forever, before the regular-file check below could refuse it.
            let fd = try systemCall { cplatform_open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0) }
            defer { close(fd) }
            var info = stat()
            _ = try systemCall { fstat(fd, &info) }
            if UInt32(info.st_mode) & UInt32(S_IFMT) != UInt32(S_IFREG) { return .failure(.notRegularFile) }
            let flags = try systemCall { cplatform_fcntl(fd, F_GETFL, 0) }
            _ = try systemCall { cplatform_fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
            if Int(info.st_size) > maxConfigSize { return .failure(.tooLarge) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = try systemCall { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
                if n == 0 { return .success(bytes) }
                bytes.append(contentsOf: chunk[0..<n])
                if bytes.count > maxConfigSize { return .failure(.tooLarge) }
            }
        } catch {
            return .failure(.cannotOpen(error.description))
        }
    }

    /// The canonical path, used to detect include cycles; nil when missing.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `dir/name` unless `name` is absolute.
    public static func resolve(_ name: String, relativeTo file: String) -> String {
        if name.hasPrefix("/") { return name }
        guard let slash = file.lastIndex(of: "/") else { return name }
        return String(file[...slash]) + name
    }
}

/// Reads environment variables for `${VAR}` substitution. Tests pass their own.
public struct Environment: Sendable {
    private let lookup: @Sendable (String) -> String?

    public init(_ lookup: @escaping @Sendable (String) -> String?) {
        self.lookup = lookup
    }

    public init(_ values: [String: String]) {
        self.lookup = { values[$0] }
    }

    public static let process = Environment { name in
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    public func value(_ name: String) -> String? { lookup(name) }
}
