import Foundation
import Testing
import TestKit
@testable import WebhookSpool

/// The spool's storage on its own, against real SQLite files: order, the
/// bound, one process per directory, a directory it cannot use, and a
/// corrupt file.
@Suite struct SpoolStoreTests {
    func directory() -> String {
        let path = NSTemporaryDirectory() + "spool-\(UUID().uuidString)"
        return path
    }

    func store(_ records: [(UInt64, [UInt8])], into spool: SpoolStore) throws {
        // Copies whose pointers stay valid for the whole append.
        let copies = records.map { record in
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: record.1.count, alignment: 1)
            copy.copyBytes(from: record.1)
            return (client: record.0, bytes: UnsafeRawBufferPointer(copy))
        }
        defer { copies.forEach { $0.bytes.deallocate() } }
        try spool.append(copies)
    }

    func read(_ spool: SpoolStore, limit: Int = 1_000_000) throws -> [(Int64, UInt64, [UInt8])] {
        var rows: [(Int64, UInt64, [UInt8])] = []
        try spool.forEachOldest(limit: limit) { rows.append(($0, $1, Array($2))) }
        return rows
    }

    @Test func eventsComeBackInOrderAcrossReopeningAndRemoval() throws {
        let dir = directory()
        var random = SeededRandom(state: 15)
        let records = (0..<500).map { i in (UInt64(i % 7) &* 0x9E37_79B9, (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }) }
        do {
            let spool = try SpoolStore(directory: dir, maxBytes: 64 << 20, durable: false)
            try store(Array(records[..<250]), into: spool)
            try store(Array(records[250...]), into: spool)
            #expect(try spool.count() == 500 && spool.recoveredFrom == nil)
        }
        // A new store on the same directory (a restart) finds them all, in order.
        let spool = try SpoolStore(directory: dir, maxBytes: 64 << 20, durable: true)
        let rows = try read(spool)
        #expect(rows.map(\.1) == records.map(\.0) && rows.map(\.2) == records.map(\.1))
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.0 < $1.0 })
        try spool.remove(upTo: rows[99].0)
        let rest = try read(spool, limit: 10)
        #expect(rest.count == 10 && rest[0].2 == records[100].1)
        #expect(try spool.count() == 400 && spool.bytesOnDisk() > 0)
    }

    @Test func theBoundRefusesAWholeBatchWithAFullError() throws {
        let spool = try SpoolStore(directory: directory(), maxBytes: 256 << 10, durable: false)
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
        // Room again after removal.
        try spool.remove(upTo: Int64.max)
        try store([(1, record)], into: spool)
    }

    @Test func oneProcessPerDirectory() throws {
        let dir = directory()
        do {
            let first = try SpoolStore(directory: dir, maxBytes: 1 << 20, durable: false)
            #expect(throws: SpoolError.self) { _ = try SpoolStore(directory: dir, maxBytes: 1 << 20, durable: false) }
            do {
                _ = try SpoolStore(directory: dir, maxBytes: 1 << 20, durable: false)
            } catch {
                #expect(error.description.contains("is in use by another process (pid \(getpid()))"), "\(error)")
            }
            withExtendedLifetime(first) {}
        }
        // Released with the store.
        _ = try SpoolStore(directory: dir, maxBytes: 1 << 20, durable: false)
    }

    @Test func aDirectoryThatCannotBeUsedIsAClearError() throws {
        let file = directory()
        FileManager.default.createFile(atPath: file, contents: Data("not a directory".utf8))
        do {
            _ = try SpoolStore(directory: file + "/spool", maxBytes: 1 << 20, durable: false)
            Issue.record("opened a spool under a file")
        } catch {
            #expect(error.description.hasPrefix("cannot create the spool directory \(file)/spool: "), "\(error)")
        }
        // Root may write anywhere, so the unwritable case is checked only for other users.
        if getuid() != 0 {
            let readOnly = directory()
            try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o500])
            #expect(throws: SpoolError.self) { _ = try SpoolStore(directory: readOnly, maxBytes: 1 << 20, durable: false) }
        }
    }

    @Test func aCorruptFileIsMovedAsideAndAFreshSpoolStarts() throws {
        let dir = directory()
        do {
            let spool = try SpoolStore(directory: dir, maxBytes: 1 << 20, durable: false)
            try store([(1, [1, 2, 3])], into: spool)
        }
        // Scribble over the database's pages (its header survives, so SQLite opens it).
        let path = dir + "/" + SpoolStore.fileName
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        handle.seek(toFileOffset: 100)
        handle.write(Data(repeating: 0x5A, count: 8000))
        handle.closeFile()
        let spool = try SpoolStore(directory: dir, maxBytes: 1 << 20, durable: false)
        let aside = try #require(spool.recoveredFrom)
        #expect(aside.hasPrefix(path + ".corrupt-") && FileManager.default.fileExists(atPath: aside))
        #expect(try spool.count() == 0)
        try store([(2, [4])], into: spool)
        #expect(try read(spool).map(\.2) == [[4]])

        // A file that is not a database at all is handled the same way.
        let other = directory()
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: false)
        FileManager.default.createFile(atPath: other + "/" + SpoolStore.fileName, contents: Data(repeating: 0x41, count: 5000))
        #expect(try SpoolStore(directory: other, maxBytes: 1 << 20, durable: false).recoveredFrom != nil)
    }
}
