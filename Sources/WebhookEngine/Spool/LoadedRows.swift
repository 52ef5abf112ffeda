/// A lane's spool rows whose events are in memory (loaded, or handed over
/// fresh), oldest first, and whether each event is finished (delivered or
/// failed). Rows are deleted as a prefix, with one range delete per lane
/// (`DELETE ... WHERE lane = ? AND seq <= ?`): per-row deletes cost SQLite
/// several microseconds each. A row finished out of order (`ordering =
/// none`) waits for those before it; if the process dies meanwhile its event
/// is sent again, which at-least-once allows.
///
/// A plain value: the spool thread owns one per lane.
struct LoadedRows {
    private var seqs: [Int64] = []
    private var finished: [Bool] = []
    private var head = 0

    var count: Int { seqs.count - head }

    /// A row whose event went to memory; rows arrive in `seq` order.
    mutating func append(_ seq: Int64) {
        seqs.append(seq)
        finished.append(false)
    }

    /// The event of row `seq` is finished. (Rows not held are ignored.)
    mutating func markFinished(_ seq: Int64) {
        var low = head, high = seqs.count
        while low < high {
            let middle = (low + high) / 2
            if seqs[middle] < seq { low = middle + 1 } else { high = middle }
        }
        if low < seqs.count && seqs[low] == seq { finished[low] = true }
    }

    /// Takes the finished rows at the front: the highest `seq` among them
    /// (every row of the lane up to it may go) and how many; nil if none.
    mutating func popFinishedPrefix() -> (upTo: Int64, count: Int)? {
        var end = head
        while end < seqs.count && finished[end] { end += 1 }
        guard end > head else { return nil }
        let result = (upTo: seqs[end - 1], count: end - head)
        head = end
        compact()
        return result
    }

    /// Takes every finished row left (those behind an unfinished one), for
    /// deletion one by one at shutdown.
    mutating func takeFinished() -> [Int64] {
        var taken: [Int64] = []
        var keptSeqs: [Int64] = []
        for index in head..<seqs.count {
            if finished[index] { taken.append(seqs[index]) } else { keptSeqs.append(seqs[index]) }
        }
        seqs = keptSeqs
        finished = Array(repeating: false, count: keptSeqs.count)
        head = 0
        return taken
    }

    /// Drops the consumed front now and then, so the arrays do not grow.
    private mutating func compact() {
        guard head >= 4096, head * 2 >= seqs.count else { return }
        seqs.removeFirst(head)
        finished.removeFirst(head)
        head = 0
    }
}
