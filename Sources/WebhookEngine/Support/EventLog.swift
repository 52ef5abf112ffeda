import CPlatform

/// A FIFO of variable-size records in linked blocks of raw memory: a lane's
/// queued events, as `EventRecord`s.
///
/// Appending is a bump of an offset and a copy, so the broker's thread
/// allocates nothing per event (a new block every few hundred events) and
/// a queued event is its bytes and nothing else (about half what an `Event`
/// in a list of values took). Growing never moves a record. An emptied block
/// is kept as a spare, so a queue that breathes in and out of one block
/// allocates nothing at all. Records are 8-byte aligned; a record larger than
/// a block gets a block of its own.
///
/// Noncopyable: a lane owns its log.
struct EventLog: ~Copyable {
    static var blockSize: Int { 64 << 10 }

    private typealias Block = UnsafeMutablePointer<BlockHeader>

    /// The oldest block and where its first unread record starts.
    private var head: Block
    private var readOffset = 0
    /// The newest block; its `used` is where the next record goes.
    private var tail: Block
    private var spare: Block?
    private(set) var count = 0

    /// Starts with an empty block of no capacity: the first record brings
    /// a real block. A pool has 32 lanes and an idle one should cost no
    /// resident memory, which an untouched 64 KiB block does not achieve
    /// (malloc writes its headers and alignment padding into its pages).
    init() {
        let base = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
        head = Block.allocate(capacity: 1)
        head.initialize(to: BlockHeader(base: base, capacity: 0))
        tail = head
    }

    deinit {
        var block: Block? = head
        while let current = block {
            block = current.pointee.next
            Self.freeBlock(current)
        }
        if let spare { Self.freeBlock(spare) }
    }

    var isEmpty: Bool { count == 0 }

    /// Hands the whole log over, leaving this one empty.
    mutating func takeAll() -> EventLog {
        var taken = EventLog()
        swap(&self, &taken)
        return taken
    }

    /// Appends a record of `size` bytes (a multiple of 8) that `write` fills in.
    mutating func append(size: Int, _ write: (UnsafeMutableRawPointer) -> Void) {
        if tail.pointee.capacity - tail.pointee.used < size {
            let fresh: Block
            if size <= Self.blockSize, let spare {
                fresh = spare
                self.spare = nil
            } else {
                fresh = Self.makeBlock(capacity: max(size, Self.blockSize), prefault: count > 0)
            }
            if count == 0 {
                // Empty: the new block replaces the (empty) head rather than
                // follow it, so the head always holds the oldest record.
                let old = head
                head = fresh
                tail = fresh
                readOffset = 0
                old.pointee.used = 0
                keepOrFree(old)
            } else {
                tail.pointee.next = fresh
                tail = fresh
            }
        }
        write(tail.pointee.base + tail.pointee.used)
        tail.pointee.used += size
        count += 1
    }

    /// Reads the oldest record in place.
    func withFirst<T>(_ body: (UnsafeRawPointer) -> T) -> T? {
        guard count > 0 else { return nil }
        return body(UnsafeRawPointer(head.pointee.base + readOffset))
    }

    /// Visits every record in place, oldest first. (Mutable pointers: the
    /// spool writes each record's row into it.)
    func forEach(_ body: (UnsafeMutableRawPointer) -> Void) {
        var block: Block? = head
        var offset = readOffset
        while let current = block {
            while offset < current.pointee.used {
                let record = current.pointee.base + offset
                body(record)
                offset += EventRecord.size(record)
            }
            block = current.pointee.next
            offset = 0
        }
    }

    /// Empties the log, keeping one block.
    mutating func removeAll() {
        guard count > 0 else { return }
        count = 0
        startOver()
    }

    /// Empty: start over at the head block's start; later blocks go.
    private mutating func startOver() {
        releaseBlocks(after: head)
        head.pointee.used = 0
        readOffset = 0
        tail = head
    }

    /// Reads the oldest record, then removes it.
    mutating func removeFirst<T>(_ read: (UnsafeRawPointer) -> T) -> T? {
        guard count > 0 else { return nil }
        let record = UnsafeRawPointer(head.pointee.base + readOffset)
        let value = read(record)
        readOffset += EventRecord.size(record)
        count -= 1
        if count == 0 {
            startOver()
        } else if readOffset == head.pointee.used {
            let emptied = head
            head = emptied.pointee.next!
            readOffset = 0
            emptied.pointee.next = nil
            keepOrFree(emptied)
        }
        return value
    }

    private mutating func releaseBlocks(after block: Block) {
        var next = block.pointee.next
        block.pointee.next = nil
        while let current = next {
            next = current.pointee.next
            current.pointee.next = nil
            keepOrFree(current)
        }
    }

    private mutating func keepOrFree(_ block: Block) {
        if spare == nil, block.pointee.capacity == Self.blockSize {
            block.pointee.used = 0
            spare = block
        } else {
            Self.freeBlock(block)
        }
    }

    /// `prefault`: only for a log that is growing. A lane's first block
    /// faults its pages in as they are used, so a lane that sees a few
    /// events costs a few pages.
    private static func makeBlock(capacity: Int, prefault: Bool) -> Block {
        let block = Block.allocate(capacity: 1)
        let base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: Self.pageSize)
        if prefault { Self.prefault(base, capacity) }
        block.initialize(to: BlockHeader(base: base, capacity: capacity))
        return block
    }

    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Maps the block's pages in one system call, so the thread that fills
    /// it (the broker's) does not take a page fault every 4 KiB: with a
    /// growing backlog those faults were a quarter of an emit. Kernels
    /// before 5.14 do not know the advice; then pages fault in as before.
    private static func prefault(_ base: UnsafeMutableRawPointer, _ count: Int) {
        _ = madvise(base, count, 23 /* MADV_POPULATE_WRITE */)
    }

    private static func freeBlock(_ block: Block) {
        block.pointee.base.deallocate()
        block.deinitialize(count: 1)
        block.deallocate()
    }
}

/// A block's memory, how much of it is written, and the next, newer block.
struct BlockHeader {
    var base: UnsafeMutableRawPointer
    var capacity: Int
    var used = 0
    var next: UnsafeMutablePointer<BlockHeader>?
}
