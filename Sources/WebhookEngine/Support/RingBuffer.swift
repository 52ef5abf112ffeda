/// A FIFO on a growable circular array: O(1) push and pop at either end
/// without the shifting `Array.removeFirst` does.
struct RingBuffer<Element> {
    private var storage: [Element?] = []
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    var first: Element? { count == 0 ? nil : storage[head] }

    mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head + count) & (storage.count - 1)] = element
        count += 1
    }

    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) & (storage.count - 1)
        count -= 1
        return element
    }

    /// Puts an element back at the front (a retry that must keep its place).
    mutating func prepend(_ element: Element) {
        if count == storage.count { grow() }
        head = (head - 1) & (storage.count - 1)
        storage[head] = element
        count += 1
    }

    mutating func removeAll() -> [Element] {
        var all: [Element] = []
        all.reserveCapacity(count)
        while let element = popFirst() { all.append(element) }
        storage = []
        head = 0
        return all
    }

    private mutating func grow() {
        let newCapacity = Swift.max(16, storage.count * 2)
        var grown = [Element?](repeating: nil, count: newCapacity)
        for i in 0..<count {
            grown[i] = storage[(head + i) & (storage.count - 1)]
        }
        storage = grown
        head = 0
    }
}
