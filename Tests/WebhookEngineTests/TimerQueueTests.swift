import Testing
@testable import WebhookEngine

/// The timers' deadlines as a value: which slot is due, in what order, and
/// when the thread must wake to sleep less.
@Suite struct TimerQueueTests {
    @Test func dueSlotsComeEarliestFirstAndOnlyOnce() {
        var timers = TimerQueue()
        let a = timers.addSlot(), b = timers.addSlot(), c = timers.addSlot()
        #expect(timers.earliest() == nil && timers.takeDue(nowNs: .max) == nil)
        let first = timers.arm(a, deadlineNs: 300), earlier = timers.arm(b, deadlineNs: 100), later = timers.arm(c, deadlineNs: 200)
        #expect(first, "the first deadline is the earliest")
        #expect(earlier, "earlier: the thread must wake")
        #expect(!later, "later than b: no need to wake")
        #expect(timers.earliest() == 100)
        let none = timers.takeDue(nowNs: 99), one = timers.takeDue(nowNs: 250), two = timers.takeDue(nowNs: 250)
        let three = timers.takeDue(nowNs: 250)
        #expect(none == nil && one == b && two == c)
        #expect(three == nil && timers.isArmed(a) && !timers.isArmed(b))
        #expect(timers.earliest() == 300)
    }

    @Test func armingAgainReplacesAndAdvancingBringsADeadlineForward() {
        var timers = TimerQueue()
        let a = timers.addSlot(), b = timers.addSlot()
        _ = timers.arm(a, deadlineNs: 100)
        _ = timers.arm(a, deadlineNs: 500)
        let notYet = timers.takeDue(nowNs: 200)
        #expect(timers.earliest() == 500 && notYet == nil)
        let unarmed = timers.advance(b, toNs: 0), advanced = timers.advance(a, toNs: 0), due = timers.takeDue(nowNs: 1)
        #expect(!unarmed, "not armed: nothing to advance")
        #expect(advanced && due == a)
        _ = timers.arm(b, deadlineNs: 50)
        let kept = timers.advance(b, toNs: 80)
        #expect(kept && timers.earliest() == 50, "never later than it was")
    }
}
