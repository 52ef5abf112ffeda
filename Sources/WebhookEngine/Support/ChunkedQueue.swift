/// A FIFO of fixed-size chunks: O(1) append and popFirst, and growing never
/// moves an element.
///
/// It replaced a ring buffer that doubled: while a broker outran delivery,
/// every doubling moved the whole backlog under the lane's lock, on the
/// broker's thread (14% of `webhook_emit` in `perf`). Here a full chunk just
/// links a new one, and an emptied chunk is kept as a spare, so a queue that
/// breathes in and out of one chunk allocates nothing.
///
/// Noncopyable: a lane owns its queue, and no copy-on-write check runs on the
/// hot path. Elements are moved in and out of raw memory, never copied.
struct ChunkedQueue<Element>: ~Copyable {
    /// Elements per chunk: a few KB of queued events, and the backlog a
    /// chunk boundary can hold up is bounded by it.
    static var chunkCapacity: Int { 128 }

    private typealias Chunk = UnsafeMutablePointer<ChunkHeader<Element>>

    /// The oldest chunk and the index of its first element.
    private var head: Chunk
    private var headIndex = 0
    /// The newest chunk and where its next element goes.
    private var tail: Chunk
    private var tailIndex = 0
    private var spare: Chunk?
    private(set) var count = 0

    init() {
        head = Self.makeChunk()
        tail = head
    }

    deinit {
        var chunk: Chunk? = head
        var index = headIndex
        var left = count
        while let current = chunk {
            let here = min(left, Self.chunkCapacity - index)
            (current.pointee.elements + index).deinitialize(count: here)
            left -= here
            index = 0
            chunk = current.pointee.next
            Self.freeChunk(current)
        }
        if let spare { Self.freeChunk(spare) }
    }

    var isEmpty: Bool { count == 0 }

    /// Reads the oldest element in place.
    func withFirst<T>(_ body: (borrowing Element) -> T) -> T? {
        guard count > 0 else { return nil }
        return body(head.pointee.elements[headIndex])
    }

    mutating func append(_ element: __owned Element) {
        if tailIndex == Self.chunkCapacity {
            let fresh = spare ?? Self.makeChunk()
            spare = nil
            tail.pointee.next = fresh
            tail = fresh
            tailIndex = 0
        }
        (tail.pointee.elements + tailIndex).initialize(to: element)
        tailIndex += 1
        count += 1
    }

    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = (head.pointee.elements + headIndex).move()
        headIndex += 1
        count -= 1
        if count == 0 {
            // Empty: start over at the head chunk's first slot; later chunks go.
            releaseChunks(after: head)
            headIndex = 0
            tail = head
            tailIndex = 0
        } else if headIndex == Self.chunkCapacity {
            let emptied = head
            head = emptied.pointee.next!
            headIndex = 0
            emptied.pointee.next = nil
            keepOrFree(emptied)
        }
        return element
    }

    /// Every element, oldest first; the queue is left empty.
    mutating func removeAll() -> [Element] {
        var all: [Element] = []
        all.reserveCapacity(count)
        while let element = popFirst() { all.append(element) }
        return all
    }

    private mutating func releaseChunks(after chunk: Chunk) {
        var next = chunk.pointee.next
        chunk.pointee.next = nil
        while let current = next {
            next = current.pointee.next
            current.pointee.next = nil
            keepOrFree(current)
        }
    }

    private mutating func keepOrFree(_ chunk: Chunk) {
        if spare == nil { spare = chunk } else { Self.freeChunk(chunk) }
    }

    private static func makeChunk() -> Chunk {
        let chunk = Chunk.allocate(capacity: 1)
        chunk.initialize(to: ChunkHeader(elements: .allocate(capacity: chunkCapacity), next: nil))
        return chunk
    }

    /// Frees an empty chunk (its elements were moved out).
    private static func freeChunk(_ chunk: Chunk) {
        chunk.pointee.elements.deallocate()
        chunk.deinitialize(count: 1)
        chunk.deallocate()
    }
}

/// A chunk's storage and its link to the next, newer chunk.
struct ChunkHeader<Element> {
    var elements: UnsafeMutablePointer<Element>
    var next: UnsafeMutablePointer<ChunkHeader<Element>>?
}
