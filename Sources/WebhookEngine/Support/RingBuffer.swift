/// A FIFO on a growable circular buffer: O(1) push and pop at either end.
///
/// Elements live in raw memory and are moved, never copied: an event in the
/// queue is a struct holding references, and copying it (as an `[Element?]`
/// does on every store and on every growth) showed up as a third of the cost
/// of `webhook_emit` in callgrind.
struct RingBuffer<Element> {
    private final class Storage {
        var base: UnsafeMutablePointer<Element>
        var capacity: Int
        var head = 0
        var count = 0

        init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(capacity: capacity)
        }

        deinit {
            for i in 0..<count { (base + ((head + i) & (capacity - 1))).deinitialize(count: 1) }
            base.deallocate()
        }
    }

    private var storage = Storage(capacity: 16)

    /// Copy-on-write: a copied RingBuffer gets its own elements before it
    /// changes (Array(repeating:) of lanes once shared one buffer).
    private mutating func makeUnique() {
        if isKnownUniquelyReferenced(&storage) { return }
        let old = storage
        let copy = Storage(capacity: old.capacity)
        for i in 0..<old.count {
            (copy.base + i).initialize(to: old.base[(old.head + i) & (old.capacity - 1)])
        }
        copy.count = old.count
        storage = copy
    }

    var count: Int { storage.count }
    var isEmpty: Bool { storage.count == 0 }

    /// The oldest element (a copy), or nil.
    var first: Element? { storage.count == 0 ? nil : storage.base[storage.head] }

    mutating func append(_ element: __owned Element) {
        makeUnique()
        let s = storage
        if s.count == s.capacity { grow() }
        (s.base + ((s.head + s.count) & (s.capacity - 1))).initialize(to: element)
        s.count += 1
    }

    mutating func popFirst() -> Element? {
        makeUnique()
        let s = storage
        guard s.count > 0 else { return nil }
        let element = (s.base + s.head).move()
        s.head = (s.head + 1) & (s.capacity - 1)
        s.count -= 1
        return element
    }

    mutating func removeAll() -> [Element] {
        var all: [Element] = []
        all.reserveCapacity(storage.count)
        while let element = popFirst() { all.append(element) }
        return all
    }

    private mutating func grow() {
        let s = storage
        let newCapacity = s.capacity * 2
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        // Move the two runs (head..end, 0..wrap) into the new buffer in order.
        let firstRun = min(s.count, s.capacity - s.head)
        grown.moveInitialize(from: s.base + s.head, count: firstRun)
        (grown + firstRun).moveInitialize(from: s.base, count: s.count - firstRun)
        s.base.deallocate()
        s.base = grown
        s.capacity = newCapacity
        s.head = 0
    }
}
