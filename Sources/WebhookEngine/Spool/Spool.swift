import Synchronization
import WebhookCore

/// The disk spool under the memory queue (`spool { ... }`, docs/spool.md):
/// one thread of its own that moves events between the lanes and a
/// `SpoolStore`. The broker's threads never touch the disk: they stage
/// events in their lane (`DeliveryQueue.submit`), and this thread, through
/// the queue's narrow side for it (`SpoolQueue`),
/// 1. every `sync_interval`, writes what the lanes staged and deletes the
///    rows of finished events, in one transaction (one commit: the sync
///    point; fewer, larger commits cost SQLite far less per event);
/// 2. hands freshly written events straight to a lane's memory when the lane
///    has nothing older on disk and the memory queue has room;
/// 3. every `sync_interval`, and at once when a connection runs dry, loads
///    a lane's oldest rows back into memory when its memory runs low.
/// A lane's events thus always leave in the order they were accepted.
///
/// Rows are deleted only after their event is delivered (or failed), so a
/// crash replays at least once. At shutdown `close` writes what memory still
/// holds in front of each lane's rows, for the next start.
///
/// The store and the per-lane bookkeeping below belong to the spool thread
/// (and to `init` and `close`, which run when it does not). The unit tests
/// run `cycle` and `close` themselves, without the thread.
final class Spool<Queue: SpoolQueue>: @unchecked Sendable {
    private let store: SpoolStore
    private let queue: Queue
    private let log: Log
    private let syncIntervalNs: UInt64
    /// `queue.overflow`, which a full spool follows too.
    private let overflow: OverflowPolicy
    /// Per lane: rows on disk that are not in memory, and the last row that
    /// went to memory (rows are read after it).
    private var unloaded: [Int]
    private var lastLoaded: [Int64]
    /// Per lane: where staged events are swapped out to and rows read into,
    /// and the rows whose events are in memory.
    private let scratch: [Scratch]
    private var loaded: [LoadedRows]
    /// When the next write is due.
    private var nextWriteNs: UInt64 = 0
    /// Whether the last write failed (one warning per episode).
    private var failing = false
    /// Per lane, during a write: the last row `dropOldest` deleted.
    private var droppedUpTo: [Int64] = []
    /// Finished rows whose deletion failed (a failing disk): deleted with
    /// the next write, and counted as deleted only then.
    private var undeleted: [(lane: Int, upTo: Int64, count: Int)] = []

    /// Wake-ups of the spool thread (shared with the queue, which asks for loads).
    private let signal: SpoolSignal
    private var thread: OSThread?

    /// For `stats`, written only by the spool thread.
    private let written = Atomic<UInt64>(0)
    private let rows = Atomic<UInt64>(0)
    private let bytes = Atomic<UInt64>(0)
    private let oldestTimestampMs = Atomic<UInt64>(0)
    /// Dead letters stored now, and dropped (past the count or the age).
    private let deadLetters = Atomic<UInt64>(0)
    private let deadLettersDropped = Atomic<UInt64>(0)
    /// `spool.dead_letters` and `spool.dead_letter_max_age`.
    private let deadLetterLimit: Int
    private let deadLetterMaxAgeMs: UInt64

    /// The most rows a lane loads at once; below how many events in memory
    /// it loads again; and how many a lane with nothing in memory loads even
    /// when the memory queue is full (so every lane moves).
    static var loadChunk: Int { 1000 }
    static var lowWater: Int { 500 }
    static var minimumLoad: Int { 64 }
    /// An empty spool whose file is larger than this is shrunk.
    static var shrinkAbove: UInt64 { 4 << 20 }

    private final class Scratch {
        var log = EventLog()
    }

    /// Opens the spool; the rows an earlier run left are counted as
    /// replayed, and their lanes spill until they are delivered.
    /// Everything that can fail happens before the spool exists (see Engine.init).
    convenience init(settings: SpoolSettings, overflow: OverflowPolicy, queue: Queue, signal: SpoolSignal, log: Log) throws(EngineError) {
        let store: SpoolStore
        let unloaded: [Int]
        let bytesOnDisk: Int
        do throws(SpoolError) {
            store = try SpoolStore(directory: settings.directory, maxBytes: settings.maxBytes,
                                   sync: Self.sync(for: settings.durability), laneCount: queue.laneCount)
            // Dead letters marked for replay (`webhookctl dead replay`) go back among the events first.
            try store.begin()
            do throws(SpoolError) {
                _ = try store.moveReplaysToEvents()
                try store.commit()
            } catch {
                store.rollback()
                throw error
            }
            unloaded = try store.countsByLane()
            bytesOnDisk = try store.bytesOnDisk()
        } catch {
            throw EngineError("\(settings.origin): \(error.message)")
        }
        self.init(store: store, unloaded: unloaded, bytesOnDisk: bytesOnDisk, settings: settings, overflow: overflow,
                  queue: queue, signal: signal, log: log)
    }

    private init(store: SpoolStore, unloaded: [Int], bytesOnDisk: Int, settings: SpoolSettings, overflow: OverflowPolicy,
                 queue: Queue, signal: SpoolSignal, log: Log) {
        self.store = store
        self.unloaded = unloaded
        self.queue = queue
        self.signal = signal
        self.log = log
        syncIntervalNs = UInt64(settings.syncIntervalMs) * 1_000_000
        self.overflow = overflow
        deadLetterLimit = settings.deadLetters
        deadLetterMaxAgeMs = UInt64(settings.deadLetterMaxAgeMs)
        deadLetters.store(UInt64((try? store.deadLetterCount()) ?? 0), ordering: .relaxed)
        scratch = (0..<queue.laneCount).map { _ in Scratch() }
        lastLoaded = Array(repeating: .min, count: queue.laneCount)
        loaded = Array(repeating: LoadedRows(), count: queue.laneCount)
        if let aside = store.recoveredFrom {
            log.log(.warning, "spool: \(store.path) was corrupt; moved aside to \(aside), starting with an empty spool")
        }
        bytes.store(UInt64(bytesOnDisk), ordering: .relaxed)
        for (lane, count) in unloaded.enumerated() where count > 0 { queue.replayed(lane: lane, count: count) }
        let total = unloaded.reduce(0, +)
        rows.store(UInt64(total), ordering: .relaxed)
        if total > 0 {
            log.log(.info, "spool: \(total) event(s) from an earlier run in \(store.path); they go out before newer ones")
        }
    }

    /// `clean` promises nothing past the process, so nothing is synced;
    /// `crash` syncs at checkpoints, so a power loss never costs the file;
    /// `power` syncs every commit.
    static func sync(for durability: SpoolDurability) -> SpoolStore.Sync {
        switch durability {
        case .clean: .off
        case .crash: .normal
        case .power: .full
        }
    }

    func start() throws(EngineError) {
        thread = OSThread(name: "swh:spool") { [self] in run() }
        if thread == nil { throw EngineError("cannot start the spool thread") }
    }

    /// Counters for `EngineStats`.
    func addStats(to stats: inout EngineStats) {
        stats.spoolWritten = written.load(ordering: .relaxed)
        stats.spoolRows = rows.load(ordering: .relaxed)
        stats.spoolBytes = bytes.load(ordering: .relaxed)
        stats.spoolOldestTimestampMs = oldestTimestampMs.load(ordering: .relaxed)
        stats.deadLetters = deadLetters.load(ordering: .relaxed)
        stats.deadLettersDropped = deadLettersDropped.load(ordering: .relaxed)
    }

    /// Shutdown began (the queue is closed, its drain starts): write what
    /// the lanes staged now rather than at the next `sync_interval`, and
    /// keep loading lanes as they run dry, so the drain sends what the spool
    /// holds too (what it cannot send in `drain_timeout` stays on disk).
    func drainBegan() {
        signal.requestFlush()
    }

    /// At shutdown, once the queue has stopped and the connections are
    /// gone: stops the thread, writes what is staged, then saves every
    /// lane's undelivered events in front of its rows. Returns how many
    /// were saved.
    func close() -> Int {
        signal.requestStop()
        thread?.join()
        thread = nil
        cycle(admitting: false, writeNow: true)  // checks the file first
        deleteFinishedOutOfOrder()
        return saveLeftovers()
    }

    // MARK: The thread

    private func run() {
        while true {
            let (stop, flush, replay) = signal.wait(untilNanoseconds: Clock.monotonicNanoseconds() + syncIntervalNs)
            if stop { return }
            if replay { replayMarked() }
            cycle(admitting: !queue.isStopping, writeNow: flush)
        }
    }

    /// One round: the write, when due (or `writeNow`), then the loads
    /// (when `admitting`).
    func cycle(admitting: Bool, writeNow: Bool) {
        let now = Clock.monotonicNanoseconds()
        if writeNow || now >= nextWriteNs {
            checkFile()
            nextWriteNs = now + syncIntervalNs
            var staged = 0
            var deletions = undeleted
            undeleted = []
            var failed: [PendingDeadLetters] = []
            for lane in 0..<queue.laneCount {
                failed += queue.takeDeadLetters(lane: lane)
                queue.takeStaged(lane: lane, into: &scratch[lane].log)
                staged += scratch[lane].log.count
                for seq in queue.takeFinishedRows(lane: lane) { loaded[lane].markFinished(seq) }
                if let prefix = loaded[lane].popFinishedPrefix() { deletions.append((lane, prefix.upTo, prefix.count)) }
            }
            // Before the write that deletes their rows: a crash in between
            // keeps an event twice (a dead letter, and a row sent again), never loses it.
            if !failed.isEmpty { keep(failed) }
            if staged > 0 || !deletions.isEmpty {
                write(staged: staged, deletions: deletions, admitting: admitting)
            }
        }
        if admitting { load() }
        refreshOldest()
    }

    /// The time of the oldest event waiting on disk (each lane's first row
    /// not in memory), for the metrics: one indexed read per lane that has any.
    private func refreshOldest() {
        var oldest: UInt64 = 0
        for lane in 0..<queue.laneCount where unloaded[lane] > 0 {
            try? store.forEach(lane: lane, after: lastLoaded[lane], limit: 1) { _, bytes in
                guard let time = EventRecord.timestampMs(unaligned: bytes), time > 0 else { return }
                if oldest == 0 || time < oldest { oldest = time }
            }
        }
        oldestTimestampMs.store(oldest, ordering: .relaxed)
    }

    // MARK: The file under the store

    /// Before each write and at shutdown: a database file removed (or its
    /// directory, by a `/tmp` cleaner) or replaced while open takes its
    /// events with it, and SQLite would go on writing to the removed inode,
    /// to be lost at the next start. Its events are counted as lost
    /// (`dropped_spool`) and said to be, and a new file is started, so what
    /// comes next (and what memory holds at shutdown) is kept again.
    private func checkFile() {
        if store.isOpen && !store.fileWasReplaced { return }
        if store.isOpen {
            let lost = unloaded.reduce(0, +)
            for lane in 0..<queue.laneCount where unloaded[lane] > 0 {
                queue.spoolDropped(lane: lane, count: unloaded[lane])
                unloaded[lane] = 0
            }
            rows.store(0, ordering: .relaxed)
            log.log(.error, "spool: \(store.path) was removed or replaced while in use; the \(lost) event(s) stored only there are lost "
                + "(counted as dropped_spool); starting a new spool file")
        }
        do {
            try store.reopen()
            refreshBytes()
        } catch {
            // Tried again before the next write; meanwhile writes fail and count their drops.
            log.limited(.error, key: "spool-reopen", "spool: cannot start a new spool file: \(error.message)")
        }
    }

    // MARK: Writing

    /// Deletes the finished rows and stores the staged events, in one
    /// transaction. If that fails (the spool is full, or the disk is), the
    /// deletions are made alone, then the events are stored in small
    /// transactions. With `queue.overflow = drop_old`, a transaction that
    /// does not fit is retried after the oldest events on disk that are not
    /// in memory are dropped, this write's own earlier ones included (events
    /// are stored oldest first across lanes), so the newest are the ones
    /// kept; otherwise it and the events after it are dropped. Either way
    /// each drop is counted, and a lane's stored events are a run of what it
    /// staged, in order.
    private func write(staged: Int, deletions: [(lane: Int, upTo: Int64, count: Int)], admitting: Bool) {
        let records = stagedRecords()
        droppedUpTo = Array(repeating: .min, count: queue.laneCount)
        var failure: SpoolError?
        do {
            try transaction { () throws(SpoolError) in
                for deletion in deletions { try store.delete(lane: deletion.lane, upTo: deletion.upTo) }
                try insert(records[...])
            }
            stored(records[...])
        } catch {
            for (_, record) in records { EventRecord.setSpoolRow(record, 0) }
            do {
                try transaction { () throws(SpoolError) in for deletion in deletions { try store.delete(lane: deletion.lane, upTo: deletion.upTo) } }
            } catch {
                // The rows stay on disk (sent again after a restart, never
                // lost); the next write deletes them.
                undeleted = deletions
                log.log(.warning, "spool: cannot delete \(deletions.reduce(0) { $0 + $1.count }) delivered event(s) (\(error.message)); retried with the next write")
            }
            var start = 0
            var attempts = 0
            while start < records.count {
                let end = min(start + 64, records.count)
                do {
                    try transaction { () throws(SpoolError) in try insert(records[start..<end]) }
                    stored(records[start..<end])
                    start = end
                    attempts = 0
                } catch {
                    for (_, record) in records[start..<end] { EventRecord.setSpoolRow(record, 0) }
                    // Deleting rows frees whole pages only now and then: drop
                    // more each time, a few times, before giving up on the chunk.
                    if error.isFull, overflow == .dropOld, attempts < 6, dropOldest((end - start) << attempts) > 0 {
                        attempts += 1
                        continue
                    }
                    failure = error
                    break
                }
            }
        }
        if let failure {
            if !failing {
                let what = overflow == .dropOld ? "events that do not fit are dropped" : "new events are dropped while it lasts"
                log.log(.error, "spool: \(failure.message); \(what) (counted as dropped_spool)")
            }
            failing = true
        } else if failing {
            log.log(.info, "spool: writing again")
            failing = false
        }
        let deleted = undeleted.isEmpty ? UInt64(deletions.reduce(0) { $0 + $1.count }) : 0
        forgetRows(Int(deleted))
        for lane in 0..<queue.laneCount where scratch[lane].log.count > 0 {
            settle(lane: lane, admitting: admitting)
        }
        if rows.load(ordering: .relaxed) == 0 && deleted > 0 && bytes.load(ordering: .relaxed) > Self.shrinkAbove {
            // The backlog is gone: give its disk space back.
            do {
                try store.shrink()
            } catch {
                log.log(.warning, "spool: \(error.message)")
            }
        }
        refreshBytes()
    }

    /// Records committed rows: on disk, not in memory.
    private func stored(_ records: ArraySlice<(lane: Int, record: UnsafeMutableRawPointer)>) {
        for (lane, _) in records { unloaded[lane] += 1 }
        written.add(UInt64(records.count), ordering: .relaxed)
        rows.add(UInt64(records.count), ordering: .relaxed)
    }

    /// After a write, a lane's staged records are, in order: those
    /// `dropOldest` deleted again (counted there), those on disk, and those
    /// never stored (counted here). The ones on disk go straight to memory
    /// when the lane has nothing older on disk.
    private func settle(lane: Int, admitting: Bool) {
        var deletedAgain = 0, onDisk = 0
        scratch[lane].log.forEach {
            let row = EventRecord.spoolRow($0)
            if row == 0 { return }
            if row <= droppedUpTo[lane] { deletedAgain += 1 } else { onDisk += 1 }
        }
        for _ in 0..<deletedAgain { _ = scratch[lane].log.removeFirst { _ in () } }
        queue.spoolDropped(lane: lane, count: scratch[lane].log.count - onDisk)
        if admitting && unloaded[lane] == onDisk && onDisk > 0 {
            // Without being read back, and without the ones never stored
            // (the last `count - onDisk`).
            let seqs = rowsOf(scratch[lane].log)
            let admitted = queue.admit(lane: lane, from: &scratch[lane].log, minimum: 0, limit: onDisk)
            if admitted.count > 0 { lastLoaded[lane] = admitted.lastRow }
            for seq in seqs.prefix(admitted.count) { loaded[lane].append(seq) }
            unloaded[lane] -= admitted.count
        }
        scratch[lane].log.removeAll()
    }

    /// Every lane's staged records, oldest first across lanes (each lane's
    /// in its own order): rows then go to disk in the order events were
    /// accepted, so `dropOldest` drops the oldest whatever their lane. A
    /// lane's acceptance times may step back a little (taken before its
    /// lock), so each record sorts by the latest time of its lane so far.
    private func stagedRecords() -> [(lane: Int, record: UnsafeMutableRawPointer)] {
        var keyed: [(time: UInt64, lane: Int, index: Int, record: UnsafeMutableRawPointer)] = []
        for lane in 0..<queue.laneCount {
            var latest: UInt64 = 0
            var index = 0
            scratch[lane].log.forEach { record in
                latest = max(latest, EventRecord.acceptedAtNs(record))
                keyed.append((latest, lane, index, record))
                index += 1
            }
        }
        keyed.sort { ($0.time, $0.lane, $0.index) < ($1.time, $1.lane, $1.index) }
        return keyed.map { ($0.lane, $0.record) }
    }

    /// Inserts records and writes each one's row into it (inside a transaction).
    private func insert(_ records: ArraySlice<(lane: Int, record: UnsafeMutableRawPointer)>) throws(SpoolError) {
        for (lane, record) in records {
            let row = try store.insert(lane: lane, client: ClientHash.of(EventRecord.clientID(record)),
                                       record: UnsafeRawBufferPointer(start: record, count: EventRecord.size(record)))
            EventRecord.setSpoolRow(record, row)
        }
    }

    /// `drop_old` on a full spool: drops up to `count` of the oldest events
    /// on disk that are not in memory, oldest lane head first; returns how
    /// many went (counted as `dropped_spool`). Notes in `droppedUpTo` how far
    /// each lane went, for the rows of the write in progress.
    private func dropOldest(_ count: Int) -> Int {
        var dropped = 0
        while dropped < count {
            var oldest: (lane: Int, seq: Int64)?
            for lane in 0..<queue.laneCount where unloaded[lane] > 0 {
                try? store.forEach(lane: lane, after: lastLoaded[lane], limit: 1) { seq, _ in
                    if oldest == nil || seq < oldest!.seq { oldest = (lane, seq) }
                }
            }
            guard let lane = oldest?.lane else { break }
            let take = min(count - dropped, unloaded[lane], 256)
            var last: Int64 = 0
            try? store.forEach(lane: lane, after: lastLoaded[lane], limit: take) { seq, _ in last = seq }
            do {
                try transaction { () throws(SpoolError) in try store.delete(lane: lane, after: lastLoaded[lane], upTo: last) }
            } catch {
                break
            }
            unloaded[lane] -= take
            queue.spoolDropped(lane: lane, count: take)
            forgetRows(take)
            droppedUpTo[lane] = last
            dropped += take
        }
        return dropped
    }

    private func transaction(_ body: () throws(SpoolError) -> Void) throws(SpoolError) {
        try store.begin()
        do {
            try body()
            try store.commit()
        } catch {
            store.rollback()
            throw error
        }
    }

    /// `count` rows were deleted (the gauge never goes below 0, should a
    /// deletion have found fewer rows than counted).
    private func forgetRows(_ count: Int) {
        rows.subtract(min(UInt64(count), rows.load(ordering: .relaxed)), ordering: .relaxed)
    }

    private func refreshBytes() {
        if let size = try? store.bytesOnDisk() { bytes.store(UInt64(size), ordering: .relaxed) }
    }

    // MARK: Loading

    /// Reads the oldest rows of each lane whose memory runs low into it.
    private func load() {
        let now = Clock.monotonicNanoseconds()
        for lane in 0..<queue.laneCount where unloaded[lane] > 0 {
            let inMemory = queue.memoryCount(lane: lane)
            guard inMemory < Self.lowWater else { continue }
            // Only what memory can take: rows read and not admitted would
            // be read again.
            let wanted = min(Self.loadChunk, max(queue.room, inMemory == 0 ? Self.minimumLoad : 0))
            guard wanted > 0 else { continue }
            var unreadable: [Int64] = []
            var read = 0
            do {
                try store.forEach(lane: lane, after: lastLoaded[lane], limit: wanted) { seq, bytes in
                    read += 1
                    guard EventRecord.isValid(bytes) else {
                        unreadable.append(seq)
                        return
                    }
                    scratch[lane].log.append(size: bytes.count) { record in
                        record.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                        EventRecord.setSpoolRow(record, seq)
                        // An earlier run's monotonic clock may be ahead of ours.
                        if EventRecord.acceptedAtNs(record) > now { EventRecord.setAcceptedAtNs(record, now) }
                    }
                }
            } catch {
                log.log(.error, "spool: \(error.message)")
                scratch[lane].log.removeAll()
                continue
            }
            if read == 0 {
                // Nothing left on disk for this lane although the count says
                // otherwise (it cannot, but if it did, the lane would spill forever).
                queue.spoolDropped(lane: lane, count: unloaded[lane])
                log.log(.error, "spool: lane \(lane) expected \(unloaded[lane]) more row(s) on disk and found none")
                unloaded[lane] = 0
                continue
            }
            if !unreadable.isEmpty {
                try? transaction { () throws(SpoolError) in for row in unreadable { try store.delete(lane: lane, seq: row) } }
                forgetRows(unreadable.count)
                queue.spoolDropped(lane: lane, count: unreadable.count)
                unloaded[lane] -= unreadable.count
                log.log(.warning, "spool: \(unreadable.count) row(s) of lane \(lane) are not events this build can read; deleted")
            }
            let seqs = rowsOf(scratch[lane].log)
            let admitted = queue.admit(lane: lane, from: &scratch[lane].log, minimum: inMemory == 0 ? Self.minimumLoad : 0, limit: .max)
            if admitted.count > 0 { lastLoaded[lane] = admitted.lastRow }
            for seq in seqs.prefix(admitted.count) { loaded[lane].append(seq) }
            unloaded[lane] -= admitted.count
            scratch[lane].log.removeAll()
        }
    }

    /// The rows of the records in `log`, in order.
    private func rowsOf(_ log: borrowing EventLog) -> [Int64] {
        var seqs: [Int64] = []
        seqs.reserveCapacity(log.count)
        log.forEach { seqs.append(EventRecord.spoolRow($0)) }
        return seqs
    }

    // MARK: Shutdown

    /// Deletes the rows of events finished behind an unfinished one (no
    /// prefix to delete them with), so the next start does not send them again.
    private func deleteFinishedOutOfOrder() {
        var count = 0
        do {
            try transaction { () throws(SpoolError) in
                for lane in 0..<queue.laneCount {
                    for seq in loaded[lane].takeFinished() {
                        try store.delete(lane: lane, seq: seq)
                        count += 1
                    }
                }
            }
            forgetRows(count)
        } catch {
            log.log(.error, "spool: \(error.message)")
        }
    }

    /// Writes each lane's undelivered events (those a connection had, then
    /// the queue's) in front of every row on disk, in order, so the next
    /// start sends them first. Events already on disk move rather than
    /// being copied.
    private func saveLeftovers() -> Int {
        var cursor: Int64
        do {
            cursor = min(try store.lowestSeq() ?? 0, 0) - 1
        } catch {
            log.log(.error, "spool: \(error.message)")
            cursor = -1 << 40
        }
        var saved = 0
        for lane in 0..<queue.laneCount {
            saved += queue.takeLeftovers(lane: lane) { returned, events in
                let count = returned.count + events.count
                var seq = cursor - Int64(count) + 1
                do throws(SpoolError) {
                    try transaction { () throws(SpoolError) in
                        for event in returned {
                            if event.spoolRow != 0 { try store.delete(lane: lane, seq: event.spoolRow) }
                            try insert(event, lane: lane, at: seq)
                            seq += 1
                        }
                        var failure: SpoolError?
                        events.forEach { record in
                            guard failure == nil else { return }
                            do throws(SpoolError) {
                                let row = EventRecord.spoolRow(record)
                                if row != 0 { try store.delete(lane: lane, seq: row) }
                                EventRecord.setSpoolRow(record, 0)
                                try store.insert(lane: lane, client: ClientHash.of(EventRecord.clientID(record)),
                                                 record: UnsafeRawBufferPointer(start: record, count: EventRecord.size(record)), at: seq)
                                seq += 1
                            } catch {
                                failure = error
                            }
                        }
                        if let failure { throw failure }
                    }
                    cursor -= Int64(count)
                    return true
                } catch {
                    log.log(.error, "spool: cannot save \(count) event(s) at shutdown: \(error.message)")
                    return false
                }
            }
        }
        if let count = try? store.count() { rows.store(UInt64(count), ordering: .relaxed) }
        refreshBytes()
        written.add(UInt64(saved), ordering: .relaxed)
        return saved
    }

    /// An event a connection had, as a record again.
    private func insert(_ queued: QueuedEvent, lane: Int, at seq: Int64) throws(SpoolError) {
        try withRecord(of: queued) { record, client throws(SpoolError) in
            try store.insert(lane: lane, client: client, record: record, at: seq)
        }
    }

    /// `body` with an event's record (and its client hash), written afresh
    /// from what a connection holds.
    private func withRecord(of queued: QueuedEvent, _ body: (UnsafeRawBufferPointer, UInt64) throws(SpoolError) -> Void) throws(SpoolError) {
        let failure = queued.event.withRawEvent { raw -> SpoolError? in
            let size = EventRecord.size(of: raw)
            let record = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
            defer { record.deallocate() }
            EventRecord.write(raw, timestampMs: raw.header.timestampMs, acceptedAtNs: queued.acceptedAtNs,
                              id: queued.id, size: size, to: record)
            do throws(SpoolError) {
                try body(UnsafeRawBufferPointer(start: record, count: size), ClientHash.of(raw.bytes(.clientID)))
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    // MARK: Dead letters

    /// Keeps failed events with why they failed, then drops dead letters
    /// past `spool.dead_letter_max_age` and, oldest first, past
    /// `spool.dead_letters` (counted). One transaction; if it fails, the
    /// events are counted as dropped dead letters and the log says why.
    private func keep(_ failed: [PendingDeadLetters]) {
        let count = failed.reduce(0) { $0 + $1.events.count }
        do {
            var dropped = 0
            try transaction { () throws(SpoolError) in
                for batch in failed {
                    for event in batch.events {
                        try withRecord(of: event) { record, client throws(SpoolError) in
                            try store.insertDeadLetter(client: client, record: record, failedAtMs: batch.failedAtMs,
                                                       reason: batch.why.reason, status: batch.why.status, attempts: batch.why.attempts)
                        }
                    }
                }
                let now = Clock.wallMilliseconds()
                dropped = try store.trimDeadLetters(keep: deadLetterLimit, olderThanMs: now > deadLetterMaxAgeMs ? now - deadLetterMaxAgeMs : 0)
            }
            deadLettersDropped.add(UInt64(dropped), ordering: .relaxed)
        } catch {
            deadLettersDropped.add(UInt64(count), ordering: .relaxed)
            log.limited(.error, key: "dead-letters", "spool: cannot keep \(count) failed event(s) as dead letters: \(error.message)")
        }
        if let stored = try? store.deadLetterCount() { deadLetters.store(UInt64(stored), ordering: .relaxed) }
    }

    /// A reload: the dead letters marked for replay go back among the
    /// events, behind each lane's rows, and are counted as replayed.
    private func replayMarked() {
        do {
            var moved: [Int] = []
            try transaction { () throws(SpoolError) in moved = try store.moveReplaysToEvents() }
            let total = moved.reduce(0, +)
            guard total > 0 else { return }
            for (lane, count) in moved.enumerated() where count > 0 {
                unloaded[lane] += count
                queue.replayed(lane: lane, count: count)
            }
            rows.add(UInt64(total), ordering: .relaxed)
            if let stored = try? store.deadLetterCount() { deadLetters.store(UInt64(stored), ordering: .relaxed) }
            log.log(.info, "spool: \(total) dead letter(s) marked for replay are sent again")
        } catch {
            log.log(.error, "spool: cannot replay the marked dead letters: \(error.message)")
        }
    }

    /// A reload asks the thread to replay what `webhookctl dead replay` marked.
    func requestReplay() {
        signal.requestReplay()
    }
}
