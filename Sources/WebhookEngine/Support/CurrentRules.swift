import Synchronization
import WebhookCore

/// The rule table the broker's threads match against, replaced whole by a
/// reload without a lock on the read side: a matching thread loads one
/// pointer and reads the table in place. Every table stays alive until the
/// engine goes (reloads are rare, a table is small), so a thread still
/// reading an earlier one never reads freed memory.
final class CurrentRules: @unchecked Sendable {
    private final class Box {
        let table: RuleTable
        init(_ table: RuleTable) { self.table = table }
    }

    private let current: Atomic<UnsafeRawPointer>
    /// Owns every box `current` ever pointed to.
    private let lock = Lock()
    private var boxes: [Box]

    init(_ table: RuleTable) {
        let box = Box(table)
        boxes = [box]
        current = Atomic(UnsafeRawPointer(Unmanaged.passUnretained(box).toOpaque()))
    }

    func replace(with table: RuleTable) {
        let box = Box(table)
        lock.withLock {
            boxes.append(box)
            current.store(UnsafeRawPointer(Unmanaged.passUnretained(box).toOpaque()), ordering: .releasing)
        }
    }

    /// Runs `body` with the current table, read in place (not copied).
    @inline(__always)
    func withTable<T>(_ body: (borrowing RuleTable) -> T) -> T {
        let raw = current.load(ordering: .acquiring)
        return Unmanaged<Box>.fromOpaque(raw)._withUnsafeGuaranteedRef { body($0.table) }
    }
}
