import CPlatform
import CSpool
import WebhookCore

/// Why the spool cannot be used. The message names the directory or file
/// and what the system or SQLite said.
struct SpoolError: Error, CustomStringConvertible, Sendable {
    var message: String
    /// SQLite ran out of the room `max_bytes` gives it (or the disk is full).
    var isFull: Bool
    var description: String { message }

    init(_ message: String, isFull: Bool = false) {
        self.message = message
        self.isFull = isFull
    }
}

/// Events on disk, in one SQLite database in WAL mode: the storage of the
/// optional spool. Each row is an event record (the engine's `EventRecord`
/// bytes, in-process layout), its lane and the hash of its client id,
/// numbered in the order it was stored (`seq`: the store counts up from the
/// highest it found at open), so a lane's rows come back in the order they
/// went in. The table is clustered by (lane, seq) (`WITHOUT ROWID`): a lane's
/// rows sit together, so deleting its oldest touches a few pages, not one
/// per row (with rows in global order, deletes cost 15 µs each). The lane count is
/// kept in the file (`user_version`); a store opened with another one puts
/// every row in its lane under the new count (`client % laneCount`, as the
/// engine picks lanes), so a client's events stay in one lane.
///
/// One process at a time: the directory's lock file is held (`flock`,
/// through `cspool_lock`, which a fork child lets go of) for the store's
/// life, and a second opener gets an error naming the holder.
/// A database that fails SQLite's quick check is moved aside (renamed with
/// `.corrupt-<unix time>`) and a fresh one is started: the documented
/// recovery, reported as `recoveredFrom`.
///
/// Not thread-safe: its owner (the spool thread) serialises calls.
final class SpoolStore {
    let path: String
    /// Set when a corrupt database was moved aside at open.
    private(set) var recoveredFrom: String?
    let laneCount: Int
    private let directory: String
    private let maxBytes: Int64
    private let sync: Sync
    private var db: OpaquePointer?
    private var lockFD: Int32 = -1
    /// The database file's device and inode once open: a file removed or
    /// replaced under the store (a `/tmp` cleaner, an operator) is noticed
    /// by `fileWasReplaced`, since SQLite goes on writing to the old inode.
    private var identity: (device: UInt64, inode: UInt64)?
    private var insertRow: OpaquePointer?
    private var selectLane: OpaquePointer?
    private var deleteRow: OpaquePointer?
    private var deleteRange: OpaquePointer?
    /// The next `seq` to hand out.
    private var nextSeq: Int64 = 1

    static let fileName = "swiftwebhook-spool.db"
    static let lockName = "swiftwebhook-spool.lock"

    /// What SQLite syncs to the device (`PRAGMA synchronous`, WAL mode). A
    /// commit survives the process (`kill -9`) in every case: it is in the
    /// kernel's page cache once `commit` returns.
    enum Sync: String, Sendable {
        /// Nothing: a power loss may lose or corrupt the file (which is then
        /// moved aside at the next open).
        case off = "OFF"
        /// At checkpoints: a power loss may lose the last commits, never the file.
        case normal = "NORMAL"
        /// Every commit: a power loss loses nothing committed.
        case full = "FULL"
    }

    /// Opens (or creates) the spool in `directory`, bounded by `maxBytes`
    /// of database pages.
    /// Fails before the store exists, or once it is whole (its deinit then
    /// closes what was opened): Embedded Swift never frees an object whose
    /// designated initializer throws half-way (WebhookEngine's Engine.init says more).
    convenience init(directory: String, maxBytes: Int64, sync: Sync, laneCount: Int = 1) throws(SpoolError) {
        var reason = [CChar](repeating: 0, count: 512)
        guard csqlite_load(&reason, reason.count) == 0 else {
            throw SpoolError("cannot use SQLite for the spool: " + String(cString: reason))
        }
        self.init(unopened: directory, maxBytes: maxBytes, sync: sync, laneCount: laneCount)
        try openAll()
    }

    /// Opens the spool of `directory` beside the broker that owns it (for
    /// `webhookctl dead`): no lock, nothing created but the dead letters'
    /// table, no recovery; SQLite's own locking keeps the two apart, and a
    /// write waits at most a second for the broker's.
    convenience init(inspecting directory: String) throws(SpoolError) {
        var reason = [CChar](repeating: 0, count: 512)
        guard csqlite_load(&reason, reason.count) == 0 else {
            throw SpoolError("cannot use SQLite: " + String(cString: reason))
        }
        self.init(unopened: directory, maxBytes: 0, sync: .normal, laneCount: 1)
        let rv = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
        guard rv == SQLITE_OK else {
            throw SpoolError("no spool at \(path): \(String(cString: sqlite3_errstr(rv)))")
        }
        sqlite3_busy_timeout(db, 1000)
        try Self.createDeadLetterTable(self)
    }

    private init(unopened directory: String, maxBytes: Int64, sync: Sync, laneCount: Int) {
        path = directory + "/" + Self.fileName
        self.laneCount = max(1, laneCount)
        self.directory = directory
        self.maxBytes = maxBytes
        self.sync = sync
    }

    deinit {
        closeAll()
    }

    /// Whether the database file at `path` is no longer the one open (or is
    /// gone, with its directory perhaps): what the store holds is lost.
    var fileWasReplaced: Bool {
        guard let identity else { return false }
        var info = stat()
        guard stat(path, &info) == 0 else { return true }
        return UInt64(info.st_dev) != identity.device || UInt64(info.st_ino) != identity.inode
    }

    /// Starts over with a new, empty file (and directory, and lock) after
    /// the old one was removed: `fileWasReplaced`.
    var isOpen: Bool { db != nil }

    func reopen() throws(SpoolError) {
        closeAll()
        recoveredFrom = nil
        // `nextSeq` goes on from the old file's: the engine may still hold
        // old rows' numbers, and deleting one must never hit a new row.
        try openAll()
    }

    private func openAll() throws(SpoolError) {
        try Self.makeDirectories(directory)
        let lockPath = directory + "/" + Self.lockName
        do throws(Errno) {
            lockFD = try systemCall { cspool_lock(lockPath) }
        } catch {
            guard error == .wouldBlock else {
                throw SpoolError("cannot use the spool directory \(directory): \(lockPath): \(error)")
            }
            let holder = Self.readHolder(lockPath)
            throw SpoolError("the spool directory \(directory) is in use by another process\(holder.map { " (pid \($0))" } ?? ""); give each broker its own spool.dir")
        }
        Self.writeHolder(lockFD)
        do {
            try openDatabase(maxBytes: maxBytes, sync: sync)
            var info = stat()
            if stat(path, &info) == 0 { identity = (UInt64(info.st_dev), UInt64(info.st_ino)) }
        } catch {
            closeAll()
            throw error
        }
    }

    private func closeAll() {
        for statement in [insertRow, selectLane, deleteRow, deleteRange] { sqlite3_finalize(statement) }
        insertRow = nil; selectLane = nil; deleteRow = nil; deleteRange = nil
        if let db { sqlite3_close_v2(db) }
        db = nil
        if lockFD >= 0 { cspool_unlock(lockFD) }
        lockFD = -1
        identity = nil
    }

    /// `mkdir -p`, each level it makes 0700: the spool holds the broker's
    /// messages, for its user alone.
    private static func makeDirectories(_ directory: String) throws(SpoolError) {
        var prefix = directory.hasPrefix("/") ? "/" : ""
        for part in directory.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
            if part == "." || part == ".." { continue }
            do throws(Errno) {
                _ = try systemCall { mkdir(prefix, 0o700) }
            } catch where error != .exists {
                throw SpoolError("cannot create the spool directory \(directory): \(prefix): \(error)")
            } catch {}
        }
    }

    /// The database and its `-wal` and `-shm` files are the broker user's
    /// alone (0600, as Mosquitto keeps its persistence file), whatever the
    /// directory's mode and the umask: SQLite creates its files 0644 and
    /// gives the WAL and shared-memory files the database's mode. A file an
    /// earlier version made 0644 is tightened.
    private func restrictFileModes() throws(SpoolError) {
        let fd: Int32
        do throws(Errno) {
            fd = try systemCall { cplatform_open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600) }
        } catch {
            throw SpoolError("cannot open the spool \(path): \(error)")
        }
        _ = fchmod(fd, 0o600)
        close(fd)
        for suffix in ["-wal", "-shm"] { _ = chmod(path + suffix, 0o600) }
    }

    private func openDatabase(maxBytes: Int64, sync: Sync) throws(SpoolError) {
        try openFile()
        if !(try quickCheckPasses()) {
            sqlite3_close_v2(db)
            db = nil
            let aside = path + ".corrupt-\(time(nil))"
            do throws(Errno) {
                _ = try systemCall { rename(path, aside) }
            } catch {
                throw SpoolError("\(path) is corrupt and cannot be moved aside: \(error)")
            }
            unlink(path + "-wal")
            unlink(path + "-shm")
            recoveredFrom = aside
            try openFile()
        }
        try execute("PRAGMA journal_mode = WAL")
        // The WAL is reset at each checkpoint, but its file keeps its largest
        // size unless told otherwise.
        try execute("PRAGMA journal_size_limit = \(64 << 20)")
        try execute("PRAGMA synchronous = \(sync.rawValue)")
        // Reads through a mapping rather than a pread per page.
        try execute("PRAGMA mmap_size = \(256 << 20)")
        try execute("""
            CREATE TABLE IF NOT EXISTS events (lane INTEGER NOT NULL, seq INTEGER NOT NULL, client INTEGER NOT NULL,
                                               record BLOB NOT NULL, PRIMARY KEY (lane, seq)) WITHOUT ROWID
            """)
        // The bound: SQLite refuses to grow the file past this many pages (SQLITE_FULL).
        let pageSize = try integer("PRAGMA page_size")
        try execute("PRAGMA max_page_count = \(max(16, maxBytes / Int64(max(1, pageSize))))")
        try Self.createDeadLetterTable(self)
        insertRow = try prepare("INSERT INTO events (seq, lane, client, record) VALUES (?, ?, ?, ?)")
        selectLane = try prepare("SELECT seq, record FROM events WHERE lane = ? AND seq > ? ORDER BY seq LIMIT ?")
        deleteRow = try prepare("DELETE FROM events WHERE lane = ? AND seq = ?")
        deleteRange = try prepare("DELETE FROM events WHERE lane = ? AND seq > ? AND seq <= ?")
        nextSeq = max(nextSeq, Int64(try integer("SELECT coalesce(max(seq), 0) FROM events")) + 1)
        if try integer("PRAGMA user_version") != laneCount {
            try relane()
        }
    }

    /// Puts every row in its lane under the current lane count.
    private func relane() throws(SpoolError) {
        try begin()
        do throws(SpoolError) {
            // Read first: updating a key while scanning the table could visit a row twice.
            let rows = try prepare("SELECT lane, seq, client FROM events")
            defer { sqlite3_finalize(rows) }
            var moves: [(lane: Int64, seq: Int64, client: UInt64)] = []
            while true {
                let rv = sqlite3_step(rows)
                if rv == SQLITE_DONE { break }
                guard rv == SQLITE_ROW else { throw failure("cannot read the spool", rv) }
                moves.append((sqlite3_column_int64(rows, 0), sqlite3_column_int64(rows, 1), UInt64(bitPattern: sqlite3_column_int64(rows, 2))))
            }
            let update = try prepare("UPDATE events SET lane = ? WHERE lane = ? AND seq = ?")
            defer { sqlite3_finalize(update) }
            for move in moves {
                sqlite3_reset(update)
                sqlite3_bind_int64(update, 1, Int64(move.client % UInt64(laneCount)))
                sqlite3_bind_int64(update, 2, move.lane)
                sqlite3_bind_int64(update, 3, move.seq)
                try step(update, "cannot update the spool")
            }
            try execute("PRAGMA user_version = \(laneCount)")
            try commit()
        } catch {
            rollback()
            throw error
        }
    }

    private func openFile() throws(SpoolError) {
        try restrictFileModes()
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

    // MARK: Transactions

    /// Writes go between `begin` and `commit`; one commit is one sync.
    func begin() throws(SpoolError) {
        try execute("BEGIN IMMEDIATE")
    }

    func commit() throws(SpoolError) {
        let rv = sqlite3_exec(db, "COMMIT", nil, nil, nil)
        if rv != SQLITE_OK {
            let error = failure("cannot commit to the spool", rv)
            rollback()
            throw error
        }
    }

    /// Undoes the open transaction, if any (SQLite may already have).
    func rollback() {
        if sqlite3_get_autocommit(db) == 0 { sqlite3_exec(db, "ROLLBACK", nil, nil, nil) }
    }

    // MARK: Events

    /// Stores an event's record and returns its `seq`; `at`: a given `seq`
    /// (below the lowest stored, to put events in front of a lane's rows).
    /// A full spool throws `isFull`.
    /// (A rolled-back insert's `seq` is not handed out again; gaps are harmless.)
    @discardableResult
    func insert(lane: Int, client: UInt64, record: UnsafeRawBufferPointer, at given: Int64? = nil) throws(SpoolError) -> Int64 {
        let seq = given ?? nextSeq
        sqlite3_reset(insertRow)
        sqlite3_bind_int64(insertRow, 1, seq)
        sqlite3_bind_int64(insertRow, 2, Int64(lane))
        sqlite3_bind_int64(insertRow, 3, Int64(bitPattern: client))
        sqlite3_bind_blob(insertRow, 4, record.baseAddress, Int32(record.count), cswh_sqlite_transient())
        try step(insertRow, "cannot write to the spool")
        if given == nil { nextSeq += 1 }
        return seq
    }

    /// Up to `limit` events of `lane` stored after `seq`, oldest first;
    /// `body` sees each one's `seq` and bytes (valid only inside the call).
    func forEach(lane: Int, after seq: Int64, limit: Int, _ body: (Int64, UnsafeRawBufferPointer) -> Void) throws(SpoolError) {
        sqlite3_reset(selectLane)
        sqlite3_bind_int64(selectLane, 1, Int64(lane))
        sqlite3_bind_int64(selectLane, 2, seq)
        sqlite3_bind_int64(selectLane, 3, Int64(limit))
        while true {
            let rv = sqlite3_step(selectLane)
            if rv == SQLITE_DONE { return }
            guard rv == SQLITE_ROW else { throw failure("cannot read the spool", rv) }
            let bytes = UnsafeRawBufferPointer(start: sqlite3_column_blob(selectLane, 1), count: Int(sqlite3_column_bytes(selectLane, 1)))
            body(sqlite3_column_int64(selectLane, 0), bytes)
        }
    }

    /// Forgets every event of `lane` after `after` up to `seq` (delivered
    /// or given up on; or the oldest, dropped to make room).
    func delete(lane: Int, after: Int64 = .min, upTo seq: Int64) throws(SpoolError) {
        sqlite3_reset(deleteRange)
        sqlite3_bind_int64(deleteRange, 1, Int64(lane))
        sqlite3_bind_int64(deleteRange, 2, after)
        sqlite3_bind_int64(deleteRange, 3, seq)
        try step(deleteRange, "cannot delete from the spool")
    }

    /// Forgets one event (delivered or given up on).
    func delete(lane: Int, seq: Int64) throws(SpoolError) {
        sqlite3_reset(deleteRow)
        sqlite3_bind_int64(deleteRow, 1, Int64(lane))
        sqlite3_bind_int64(deleteRow, 2, seq)
        try step(deleteRow, "cannot delete from the spool")
    }

    /// Gives the pages of deleted rows back to the file system and empties
    /// the WAL: after an outage, the spool's files shrink to their idle
    /// size. (VACUUM copies what is left: call it when little is.)
    func shrink() throws(SpoolError) {
        try execute("VACUUM")
        try execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// Events stored now, per lane.
    func countsByLane() throws(SpoolError) -> [Int] {
        var counts = [Int](repeating: 0, count: laneCount)
        let statement = try prepare("SELECT lane, count(*) FROM events GROUP BY lane")
        defer { sqlite3_finalize(statement) }
        while true {
            let rv = sqlite3_step(statement)
            if rv == SQLITE_DONE { return counts }
            guard rv == SQLITE_ROW else { throw failure("cannot read the spool", rv) }
            let lane = Int(sqlite3_column_int64(statement, 0))
            if counts.indices.contains(lane) { counts[lane] = Int(sqlite3_column_int64(statement, 1)) }
        }
    }

    /// The lowest `seq` stored, or nil when empty (per lane, on the key:
    /// no scan of the table).
    func lowestSeq() throws(SpoolError) -> Int64? {
        var lowest: Int64?
        for lane in 0..<laneCount {
            let statement = try prepare("SELECT seq FROM events WHERE lane = \(lane) ORDER BY seq LIMIT 1")
            defer { sqlite3_finalize(statement) }
            if sqlite3_step(statement) == SQLITE_ROW {
                let seq = sqlite3_column_int64(statement, 0)
                lowest = min(lowest ?? seq, seq)
            }
        }
        return lowest
    }

    /// Events stored now.
    func count() throws(SpoolError) -> Int {
        try integer("SELECT count(*) FROM events")
    }

    /// The database's size on disk, in bytes (pages in use).
    func bytesOnDisk() throws(SpoolError) -> Int {
        try integer("PRAGMA page_count") * integer("PRAGMA page_size")
    }

    // MARK: Dead letters (events that failed, kept with why)

    /// The dead letters' table: made by the broker's store at open, and by
    /// `webhookctl dead` on a spool an older build made.
    private static func createDeadLetterTable(_ store: SpoolStore) throws(SpoolError) {
        try store.execute("""
            CREATE TABLE IF NOT EXISTS dead (id INTEGER PRIMARY KEY AUTOINCREMENT, failed_at_ms INTEGER NOT NULL,
                reason TEXT NOT NULL, status INTEGER NOT NULL, attempts INTEGER NOT NULL, client INTEGER NOT NULL,
                replay INTEGER NOT NULL DEFAULT 0, record BLOB NOT NULL)
            """)
    }

    /// Keeps a failed event: why it failed, the last HTTP status (0: none),
    /// its attempts, when (wall clock, ms). Inside a transaction.
    func insertDeadLetter(client: UInt64, record: UnsafeRawBufferPointer, failedAtMs: UInt64, reason: String, status: Int,
                          attempts: Int) throws(SpoolError) {
        let statement = try prepare("INSERT INTO dead (failed_at_ms, reason, status, attempts, client, record) VALUES (?, ?, ?, ?, ?, ?)")
        defer { sqlite3_finalize(statement) }
        sqlite3_bind_int64(statement, 1, Int64(clamping: failedAtMs))
        sqlite3_bind_text(statement, 2, reason, -1, cswh_sqlite_transient())
        sqlite3_bind_int64(statement, 3, Int64(status))
        sqlite3_bind_int64(statement, 4, Int64(attempts))
        sqlite3_bind_int64(statement, 5, Int64(bitPattern: client))
        sqlite3_bind_blob(statement, 6, record.baseAddress, Int32(record.count), cswh_sqlite_transient())
        try step(statement, "cannot keep a dead letter")
    }

    /// Drops dead letters older than `olderThanMs` and, past `keep`, the
    /// oldest; returns how many went.
    func trimDeadLetters(keep: Int, olderThanMs: UInt64) throws(SpoolError) -> Int {
        try execute("DELETE FROM dead WHERE failed_at_ms < \(Int64(clamping: olderThanMs))")
        var dropped = Int(sqlite3_changes(db))
        try execute("DELETE FROM dead WHERE id NOT IN (SELECT id FROM dead ORDER BY id DESC LIMIT \(max(0, keep)))")
        dropped += Int(sqlite3_changes(db))
        return dropped
    }

    func deadLetterCount() throws(SpoolError) -> Int {
        try integer("SELECT count(*) FROM dead")
    }

    /// One stored dead letter, as `webhookctl dead` shows it.
    struct StoredDeadLetter {
        var id: Int64
        var failedAtMs: UInt64
        var reason: String
        var status: Int
        var attempts: Int
        var client: UInt64
        var replay: Bool
        var record: [UInt8]
    }

    /// Dead letters, oldest first: all, or those marked for replay.
    func deadLetters(limit: Int, markedOnly: Bool = false) throws(SpoolError) -> [StoredDeadLetter] {
        let statement = try prepare("SELECT id, failed_at_ms, reason, status, attempts, client, replay, record FROM dead"
            + (markedOnly ? " WHERE replay = 1" : "") + " ORDER BY id LIMIT \(max(0, limit))")
        defer { sqlite3_finalize(statement) }
        var letters: [StoredDeadLetter] = []
        while true {
            let rv = sqlite3_step(statement)
            if rv == SQLITE_DONE { return letters }
            guard rv == SQLITE_ROW else { throw failure("cannot read the dead letters", rv) }
            let record = UnsafeRawBufferPointer(start: sqlite3_column_blob(statement, 7), count: Int(sqlite3_column_bytes(statement, 7)))
            letters.append(StoredDeadLetter(
                id: sqlite3_column_int64(statement, 0), failedAtMs: UInt64(max(0, sqlite3_column_int64(statement, 1))),
                reason: sqlite3_column_text(statement, 2).map { String(cString: $0) } ?? "",
                status: Int(sqlite3_column_int64(statement, 3)), attempts: Int(sqlite3_column_int64(statement, 4)),
                client: UInt64(bitPattern: sqlite3_column_int64(statement, 5)), replay: sqlite3_column_int64(statement, 6) != 0,
                record: Array(record)))
        }
    }

    /// Marks dead letters for replay (`ids` nil: all); returns how many.
    func markForReplay(ids: [Int64]?) throws(SpoolError) -> Int {
        try execute("UPDATE dead SET replay = 1" + Self.whereIDs(ids))
        return Int(sqlite3_changes(db))
    }

    /// Deletes dead letters (`ids` nil: all); returns how many.
    func purgeDeadLetters(ids: [Int64]?) throws(SpoolError) -> Int {
        try execute("DELETE FROM dead" + Self.whereIDs(ids))
        return Int(sqlite3_changes(db))
    }

    /// Moves the dead letters marked for replay back among the events, at
    /// the end of their clients' lanes; returns how many went to each lane.
    /// Inside a transaction.
    func moveReplaysToEvents() throws(SpoolError) -> [Int] {
        var counts = [Int](repeating: 0, count: laneCount)
        for letter in try deadLetters(limit: .max, markedOnly: true) {
            let lane = Int(letter.client % UInt64(laneCount))
            var failure: SpoolError?
            letter.record.withUnsafeBytes { bytes in
                do throws(SpoolError) {
                    _ = try insert(lane: lane, client: letter.client, record: bytes)
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
            counts[lane] += 1
        }
        try execute("DELETE FROM dead WHERE replay = 1")
        return counts
    }

    private static func whereIDs(_ ids: [Int64]?) -> String {
        guard let ids else { return "" }
        return " WHERE id IN (" + (ids.isEmpty ? "NULL" : ids.map { "\($0)" }.joined(separator: ",")) + ")"
    }

    // MARK: SQLite helpers

    private func step(_ statement: OpaquePointer?, _ what: String) throws(SpoolError) {
        let rv = sqlite3_step(statement)
        guard rv == SQLITE_DONE else { throw failure(what, rv) }
    }

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

    private static func readHolder(_ path: String) -> Int? {
        guard let fd = try? systemCall({ cplatform_open(path, O_RDONLY | O_CLOEXEC, 0) }) else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        guard let count = try? systemCall({ buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) } }), count > 0 else { return nil }
        return Int(String(decoding: buffer[0..<count].prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self))
    }
}
