import CSQLite
import WebhookCore
#if canImport(Glibc)
import Glibc
#endif

/// Why the spool cannot be used. The message names the directory or file
/// and what the system or SQLite said.
public struct SpoolError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// SQLite ran out of the room `max_bytes` gives it (or the disk is full).
    public var isFull: Bool
    public var description: String { message }

    init(_ message: String, isFull: Bool = false) {
        self.message = message
        self.isFull = isFull
    }
}

/// Events on disk, in one SQLite database in WAL mode: the storage of the
/// optional spool (issue 15). Each row is an event record (`EventRecord`
/// bytes, in-process layout) with the hash of its client id, numbered in
/// the order it was stored, so a replay keeps every client's order whatever
/// the lane count is after a restart.
///
/// One process at a time: the directory's lock file is held (`flock`) for
/// the store's life, and a second opener gets an error naming the holder.
/// A database that fails SQLite's quick check is moved aside (renamed with
/// `.corrupt-<unix time>`) and a fresh one is started: the documented
/// recovery, reported as `recoveredFrom`.
///
/// Not thread-safe: its owner serialises calls.
public final class SpoolStore {
    public let path: String
    /// Set when a corrupt database was moved aside at open.
    public private(set) var recoveredFrom: String?
    private var db: OpaquePointer?
    private let lockFD: Int32
    private var insert: OpaquePointer?
    private var selectOldest: OpaquePointer?
    private var deleteUpTo: OpaquePointer?

    public static let fileName = "swiftwebhook-spool.db"
    public static let lockName = "swiftwebhook-spool.lock"

    /// Opens (or creates) the spool in `directory`, bounded by `maxBytes`
    /// of database pages. `durable`: every commit is synced to the disk
    /// (survives a power loss); otherwise a commit survives the process
    /// (`kill -9`) but not the machine.
    public init(directory: String, maxBytes: Int, durable: Bool) throws(SpoolError) {
        path = directory + "/" + Self.fileName
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw SpoolError("cannot create the spool directory \(directory): \(String(cString: strerror(errno)))")
        }
        let lockPath = directory + "/" + Self.lockName
        lockFD = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockFD >= 0 else {
            throw SpoolError("cannot use the spool directory \(directory): \(lockPath): \(String(cString: strerror(errno)))")
        }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.readHolder(lockFD)
            close(lockFD)
            throw SpoolError("the spool directory \(directory) is in use by another process\(holder.map { " (pid \($0))" } ?? ""); give each broker its own spool.dir")
        }
        Self.writeHolder(lockFD)
        do {
            try openDatabase(maxBytes: maxBytes, durable: durable)
        } catch {
            if let db { sqlite3_close_v2(db) }
            db = nil
            close(lockFD)
            throw error
        }
    }

    deinit {
        for statement in [insert, selectOldest, deleteUpTo] { sqlite3_finalize(statement) }
        if let db { sqlite3_close_v2(db) }
        flock(lockFD, LOCK_UN)
        close(lockFD)
    }

    private func openDatabase(maxBytes: Int, durable: Bool) throws(SpoolError) {
        try openFile()
        if !(try quickCheckPasses()) {
            sqlite3_close_v2(db)
            db = nil
            let aside = path + ".corrupt-\(time(nil))"
            guard rename(path, aside) == 0 else {
                throw SpoolError("\(path) is corrupt and cannot be moved aside: \(String(cString: strerror(errno)))")
            }
            unlink(path + "-wal")
            unlink(path + "-shm")
            recoveredFrom = aside
            try openFile()
        }
        try execute("PRAGMA journal_mode = WAL")
        try execute("PRAGMA synchronous = \(durable ? "FULL" : "NORMAL")")
        try execute("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, client INTEGER NOT NULL, record BLOB NOT NULL)")
        // The bound: SQLite refuses to grow the file past this many pages (SQLITE_FULL).
        let pageSize = try integer("PRAGMA page_size")
        try execute("PRAGMA max_page_count = \(max(16, maxBytes / max(1, pageSize)))")
        insert = try prepare("INSERT INTO events (client, record) VALUES (?, ?)")
        selectOldest = try prepare("SELECT seq, client, record FROM events WHERE seq > ? ORDER BY seq LIMIT ?")
        deleteUpTo = try prepare("DELETE FROM events WHERE seq <= ?")
    }

    private func openFile() throws(SpoolError) {
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rv = sqlite3_open_v2(path, &db, flags, nil)
        guard rv == SQLITE_OK else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rv))
            throw SpoolError("cannot open the spool \(path): \(message)")
        }
        sqlite3_busy_timeout(db, 1000)
    }

    /// Whether the file is a sound database (a file that is not one at all
    /// fails here too).
    private func quickCheckPasses() throws(SpoolError) -> Bool {
        var statement: OpaquePointer?
        let rv = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &statement, nil)
        defer { sqlite3_finalize(statement) }
        if rv == SQLITE_NOTADB || rv == SQLITE_CORRUPT { return false }
        guard rv == SQLITE_OK else { throw failure("cannot check the spool", rv) }
        let step = sqlite3_step(statement)
        if step == SQLITE_NOTADB || step == SQLITE_CORRUPT { return false }
        guard step == SQLITE_ROW, let text = sqlite3_column_text(statement, 0) else { throw failure("cannot check the spool", step) }
        return String(cString: text) == "ok"
    }

    // MARK: Events

    /// Stores `records` (client hash, record bytes) in one transaction, in
    /// order; all or none (a full spool stores none: `isFull`).
    public func append<Records: Sequence>(_ records: Records) throws(SpoolError) where Records.Element == (client: UInt64, bytes: UnsafeRawBufferPointer) {
        try execute("BEGIN IMMEDIATE")
        for (client, bytes) in records {
            sqlite3_reset(insert)
            sqlite3_bind_int64(insert, 1, Int64(bitPattern: client))
            sqlite3_bind_blob(insert, 2, bytes.baseAddress, Int32(bytes.count), cswh_sqlite_transient())
            let rv = sqlite3_step(insert)
            if rv != SQLITE_DONE {
                let error = failure("cannot write to the spool", rv)
                try? execute("ROLLBACK")
                throw error
            }
        }
        let rv = sqlite3_exec(db, "COMMIT", nil, nil, nil)
        if rv != SQLITE_OK {
            let error = failure("cannot commit to the spool", rv)
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Up to `limit` stored events after `seq` (0: from the oldest), oldest
    /// first; `body` sees each one's number, client hash and bytes (valid
    /// only inside the call).
    public func forEachOldest(after seq: Int64 = 0, limit: Int, _ body: (Int64, UInt64, UnsafeRawBufferPointer) -> Void) throws(SpoolError) {
        sqlite3_reset(selectOldest)
        sqlite3_bind_int64(selectOldest, 1, seq)
        sqlite3_bind_int64(selectOldest, 2, Int64(limit))
        while true {
            let rv = sqlite3_step(selectOldest)
            if rv == SQLITE_DONE { return }
            guard rv == SQLITE_ROW else { throw failure("cannot read the spool", rv) }
            let number = sqlite3_column_int64(selectOldest, 0)
            let client = UInt64(bitPattern: sqlite3_column_int64(selectOldest, 1))
            let bytes = UnsafeRawBufferPointer(start: sqlite3_column_blob(selectOldest, 2), count: Int(sqlite3_column_bytes(selectOldest, 2)))
            body(number, client, bytes)
        }
    }

    /// Forgets every event numbered `seq` or less (delivered, or handed back
    /// to memory).
    public func remove(upTo seq: Int64) throws(SpoolError) {
        sqlite3_reset(deleteUpTo)
        sqlite3_bind_int64(deleteUpTo, 1, seq)
        let rv = sqlite3_step(deleteUpTo)
        guard rv == SQLITE_DONE else { throw failure("cannot delete from the spool", rv) }
    }

    /// Events stored now.
    public func count() throws(SpoolError) -> Int {
        try integer("SELECT count(*) FROM events")
    }

    /// The database's size on disk, in bytes (pages in use).
    public func bytesOnDisk() throws(SpoolError) -> Int {
        try integer("PRAGMA page_count") * integer("PRAGMA page_size")
    }

    // MARK: SQLite helpers

    private func execute(_ sql: String) throws(SpoolError) {
        let rv = sqlite3_exec(db, sql, nil, nil, nil)
        guard rv == SQLITE_OK else { throw failure("spool: \(sql)", rv) }
    }

    private func integer(_ sql: String) throws(SpoolError) -> Int {
        let statement = try prepare(sql)
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW else { throw failure("spool: \(sql)", sqlite3_errcode(db)) }
        return Int(sqlite3_column_int64(statement, 0))
    }

    private func prepare(_ sql: String) throws(SpoolError) -> OpaquePointer? {
        var statement: OpaquePointer?
        let rv = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
        guard rv == SQLITE_OK else { throw failure("spool: cannot prepare \(sql)", rv) }
        return statement
    }

    private func failure(_ what: String, _ rv: Int32) -> SpoolError {
        let detail = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rv))
        let primary = rv & 0xff
        return SpoolError("\(what): \(detail) (\(path))", isFull: primary == SQLITE_FULL)
    }

    // MARK: The lock file says who holds it

    private static func writeHolder(_ fd: Int32) {
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    private static func readHolder(_ fd: Int32) -> Int? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int(String(decoding: buffer[0..<count].prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self))
    }
}
