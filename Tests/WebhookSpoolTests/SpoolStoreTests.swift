import Foundation
import Testing
import TestKit
@testable import WebhookEngine

/// The spool's storage on its own, against real SQLite files: order, the
/// bound, one process per directory, a directory it cannot use, and a
/// corrupt file.
@Suite struct SpoolStoreTests {
    func directory() -> String {
        let path = NSTemporaryDirectory() + "spool-\(UUID().uuidString)"
        return path
    }

    /// Stores (client, bytes) records in one transaction, each in lane
    /// `client % laneCount`, as the engine does.
    func store(_ records: [(UInt64, [UInt8])], into spool: SpoolStore) throws {
        try spool.begin()
        do {
            for (client, bytes) in records {
                try bytes.withUnsafeBytes { _ = try spool.insert(lane: Int(client % UInt64(spool.laneCount)), client: client, record: $0) }
            }
            try spool.commit()
        } catch {
            spool.rollback()
            throw error
        }
    }

    func read(_ spool: SpoolStore, lane: Int = 0, after seq: Int64 = .min, limit: Int = 1_000_000) throws -> [(Int64, [UInt8])] {
        var rows: [(Int64, [UInt8])] = []
        try spool.forEach(lane: lane, after: seq, limit: limit) { rows.append(($0, Array($1))) }
        return rows
    }

    @Test func eachLaneComesBackInOrderAcrossReopeningRelaningAndDeletion() throws {
        let dir = directory()
        var random = SeededRandom(state: 15)
        let records = (0..<500).map { i in (UInt64(i % 7) &* 0x9E37_79B9, (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }) }
        func lane(_ count: Int, _ index: Int) -> [[UInt8]] {
            records.filter { Int($0.0 % UInt64(count)) == index }.map(\.1)
        }
        do {
            let spool = try SpoolStore(directory: dir, maxBytes: 64 << 20, sync: .normal, laneCount: 3)
            try store(Array(records[..<250]), into: spool)
            try store(Array(records[250...]), into: spool)
            #expect(try spool.count() == 500 && spool.recoveredFrom == nil)
            #expect(try spool.countsByLane() == (0..<3).map { lane(3, $0).count })
        }
        // A restart with another lane count: every client's events in one lane, in order.
        let spool = try SpoolStore(directory: dir, maxBytes: 64 << 20, sync: .full, laneCount: 4)
        for index in 0..<4 {
            let rows = try read(spool, lane: index)
            #expect(rows.map(\.1) == lane(4, index))
            #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.0 < $1.0 })
        }
        let first = try read(spool, lane: 1)
        for row in first.prefix(20) { try spool.delete(lane: 1, seq: row.0) }
        let rest = try read(spool, lane: 1, limit: 10)
        #expect(rest.count == 10 && rest[0].1 == first[20].1)
        let more = try read(spool, lane: 1, after: rest[9].0, limit: 1)
        #expect(more.first?.1 == first[30].1)
        #expect(try spool.count() == 480 && spool.bytesOnDisk() > 0)
        // Rows put in front of the lowest keep their place ahead of the rest.
        let lowest = try #require(try spool.lowestSeq())
        try [UInt8]([9, 9]).withUnsafeBytes { _ = try spool.insert(lane: 1, client: 1, record: $0, at: min(lowest, 0) - 1) }
        #expect(try read(spool, lane: 1, limit: 1).first?.1 == [9, 9])
        // A seq is never reused, so a reader's "after" mark stays right.
        let last = try read(spool, lane: 2).last!.0
        try spool.delete(lane: 2, seq: last)
        let next = try [UInt8]([7]).withUnsafeBytes { try spool.insert(lane: 2, client: 2, record: $0) }
        #expect(next > last)
    }

    @Test func theBoundRefusesAWholeBatchWithAFullError() throws {
        let spool = try SpoolStore(directory: directory(), maxBytes: 256 << 10, sync: .normal)
        let record = [UInt8](repeating: 0xAB, count: 1000)
        var stored = 0
        var full: SpoolError?
        while full == nil, stored < 10_000 {
            do {
                try store(Array(repeating: (1, record), count: 10), into: spool)
                stored += 10
            } catch {
                full = error as? SpoolError
            }
        }
        #expect(full?.isFull == true && stored > 0 && stored < 400, "\(String(describing: full)) after \(stored)")
        #expect(try spool.count() == stored, "a refused batch leaves nothing behind")
        // Room again after deletion.
        for row in try read(spool, lane: 0) { try spool.delete(lane: 0, seq: row.0) }
        try store([(1, record)], into: spool)
    }

    @Test func oneProcessPerDirectory() throws {
        let dir = directory()
        do {
            let first = try SpoolStore(directory: dir, maxBytes: 1 << 20, sync: .normal)
            #expect(throws: SpoolError.self) { _ = try SpoolStore(directory: dir, maxBytes: 1 << 20, sync: .normal) }
            do {
                _ = try SpoolStore(directory: dir, maxBytes: 1 << 20, sync: .normal)
            } catch {
                #expect(error.description.contains("is in use by another process (pid \(getpid()))"), "\(error)")
            }
            withExtendedLifetime(first) {}
        }
        // Released with the store.
        _ = try SpoolStore(directory: dir, maxBytes: 1 << 20, sync: .normal)
    }

    @Test func aDirectoryThatCannotBeUsedIsAClearError() throws {
        let file = directory()
        _ = FileManager.default.createFile(atPath: file, contents: Data("not a directory".utf8))
        do {
            _ = try SpoolStore(directory: file + "/spool", maxBytes: 1 << 20, sync: .normal)
            Issue.record("opened a spool under a file")
        } catch {
            #expect(error.description.hasPrefix("cannot create the spool directory \(file)/spool: "), "\(error)")
        }
        // Root may write anywhere, so the unwritable case is checked only for other users.
        if getuid() != 0 {
            let readOnly = directory()
            try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o500])
            #expect(throws: SpoolError.self) { _ = try SpoolStore(directory: readOnly, maxBytes: 1 << 20, sync: .normal) }
        }
    }

    @Test func aCorruptFileIsMovedAsideAndAFreshSpoolStarts() throws {
        let dir = directory()
        do {
            let spool = try SpoolStore(directory: dir, maxBytes: 1 << 20, sync: .normal)
            try store([(1, [1, 2, 3])], into: spool)
        }
        // Scribble over the database's pages (its header survives, so SQLite opens it).
        let path = dir + "/" + SpoolStore.fileName
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        handle.seek(toFileOffset: 100)
        handle.write(Data(repeating: 0x5A, count: 8000))
        handle.closeFile()
        let spool = try SpoolStore(directory: dir, maxBytes: 1 << 20, sync: .normal)
        let aside = try #require(spool.recoveredFrom)
        #expect(aside.hasPrefix(path + ".corrupt-") && FileManager.default.fileExists(atPath: aside))
        #expect(try spool.count() == 0)
        try store([(2, [4])], into: spool)
        #expect(try read(spool).map(\.1) == [[4]])

        // A file that is not a database at all is handled the same way.
        let other = directory()
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: other + "/" + SpoolStore.fileName, contents: Data(repeating: 0x41, count: 5000))
        #expect(try SpoolStore(directory: other, maxBytes: 1 << 20, sync: .normal).recoveredFrom != nil)
    }

    func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? nil
    }

    /// Hostile round 3, row 8: in a directory the operator made 0755 (as a
    /// package or `install -d` does), under umask 022, the database was
    /// created 0644, so every local user could read every queued message.
    /// The database, its WAL and its shared memory are 0600; a file an
    /// earlier version made 0644 is tightened.
    @Test func theDatabaseAndItsWALAreTheBrokerUsersAloneWhateverTheDirectory() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkdir(dir, 0o755) == 0)
        let old = umask(0o022)
        defer { umask(old) }
        let db = dir + "/" + SpoolStore.fileName
        do {
            let spool = try SpoolStore(directory: dir, maxBytes: 1 << 20, sync: .normal)
            try store([(1, [1, 2, 3])], into: spool)
            for file in [db, db + "-wal", db + "-shm"] {
                #expect(mode(file) == 0o600, "\(file): \(String(mode(file) ?? -1, radix: 8))")
            }
            #expect(mode(dir) == 0o755, "the operator's directory is left as made")
        }

        // A database an earlier version left 0644.
        chmod(db, 0o644)
        chmod(db + "-wal", 0o644)
        let again = try SpoolStore(directory: dir, maxBytes: 1 << 20, sync: .normal)
        #expect(mode(db) == 0o600 && mode(db + "-wal") == 0o600)
        #expect(try again.count() == 1)
    }

    /// Row 8 too: `spool.dir = "/var/lib/a/b"` without `/var/lib/a` failed;
    /// every missing level is made, each 0700.
    @Test func missingParentDirectoriesAreMadeEach0700() throws {
        let top = directory()
        defer { try? FileManager.default.removeItem(atPath: top) }
        let dir = top + "/a/b"
        let spool = try SpoolStore(directory: dir, maxBytes: 1 << 20, sync: .off)
        try store([(1, [1])], into: spool)
        for level in [top, top + "/a", dir] { #expect(mode(level) == 0o700, "\(level)") }
        let relative = "./spool-relative-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: relative) }
        #expect(try SpoolStore(directory: relative + "/x/", maxBytes: 1 << 20, sync: .off).count() == 0)
    }

    /// Row 5: a database removed (or its whole directory) while open is
    /// noticed, and a new one is started in its place.
    @Test func aRemovedFileIsNoticedAndANewOneStarted() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try SpoolStore(directory: dir, maxBytes: 1 << 20, sync: .normal)
        try store([(1, [1]), (1, [2])], into: spool)
        #expect(!spool.fileWasReplaced)
        try FileManager.default.removeItem(atPath: dir)
        #expect(spool.fileWasReplaced)
        try spool.reopen()
        #expect(try !spool.fileWasReplaced && spool.count() == 0)
        try store([(1, [3])], into: spool)
        #expect(try read(spool).map { $0.0 } == [3], "seq goes on from the old file's")
        #expect(mode(dir) == 0o700)
    }

    @Test func deadLettersAreBoundedByAgeThenCountAndReplaysMoveToTheirClientsLanes() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try SpoolStore(directory: dir, maxBytes: 1 << 20, sync: .off, laneCount: 4)
        try spool.begin()
        for n in 0..<6 {
            let record: [UInt8] = Array(repeating: UInt8(n), count: 16)
            try record.withUnsafeBytes {
                try spool.insertDeadLetter(client: UInt64(n), record: $0, failedAtMs: UInt64(1_000 * n), reason: "HTTP 40\(n)",
                                           status: 400 + n, attempts: n)
            }
        }
        // Older than 2 s: the first two; then past 3, the oldest of the rest.
        #expect(try spool.trimDeadLetters(keep: 3, olderThanMs: 2_000) == 3)
        try spool.commit()
        let kept = try spool.deadLetters(limit: 100)
        #expect(kept.map(\.status) == [403, 404, 405] && kept.map(\.reason) == ["HTTP 403", "HTTP 404", "HTTP 405"])
        #expect(kept.map(\.attempts) == [3, 4, 5] && kept.allSatisfy { !$0.replay })

        #expect(try spool.markForReplay(ids: [kept[0].id, kept[2].id]) == 2)
        try spool.begin()
        let moved = try spool.moveReplaysToEvents()
        try spool.commit()
        #expect(moved == [0, 1, 0, 1], "client 3 and client 5 hash to lanes 3 % 4 and 5 % 4")
        #expect(try read(spool, lane: 1).map(\.1) == [Array(repeating: 5, count: 16)])
        #expect(try spool.deadLetters(limit: 100).map(\.status) == [404])
        #expect(try spool.purgeDeadLetters(ids: nil) == 1 && (try spool.deadLetterCount()) == 0)
    }
}
