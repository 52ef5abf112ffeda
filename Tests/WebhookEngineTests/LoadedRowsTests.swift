import Testing
@testable import WebhookEngine

/// Which spool rows may be deleted, and when: only a finished prefix.
@Suite struct LoadedRowsTests {
    @Test func onlyTheFinishedPrefixGoesAndOutOfOrderRowsWait() {
        var rows = LoadedRows()
        for seq in [-3, -2, 5, 9, 10, 14] as [Int64] { rows.append(seq) }
        #expect(rows.popFinishedPrefix() == nil)
        rows.markFinished(5)
        rows.markFinished(42)  // not held: ignored
        #expect(rows.popFinishedPrefix() == nil, "-3 is not finished yet")
        rows.markFinished(-3)
        rows.markFinished(-2)
        let first = rows.popFinishedPrefix()
        #expect(first?.upTo == 5 && first?.count == 3)
        rows.markFinished(14)
        #expect(rows.popFinishedPrefix() == nil && rows.count == 3)
        // At shutdown the out-of-order ones are handed over one by one.
        #expect(rows.takeFinished() == [14] && rows.count == 2)
        rows.markFinished(9)
        rows.markFinished(10)
        #expect(rows.popFinishedPrefix()?.upTo == 10 && rows.count == 0)
    }

    @Test func aLongRunStaysCompact() {
        var rows = LoadedRows()
        var next: Int64 = 0
        for _ in 0..<100 {
            for _ in 0..<1000 {
                rows.append(next)
                rows.markFinished(next)
                next += 1
            }
            #expect(rows.popFinishedPrefix()?.upTo == next - 1)
        }
        #expect(rows.count == 0)
    }
}
