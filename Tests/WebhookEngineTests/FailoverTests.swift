import Testing
@testable import WebhookEngine

/// `Failover` as a value, with numbers for time (ms written as ns * 1e6).
@Suite struct FailoverTests {
    static let ms: UInt64 = 1_000_000

    @Test func theBackupUntilAProbeOfThePrimaryIsAnswered() {
        var failover = Failover(initialIntervalMs: 100, maxIntervalMs: 400)
        let t1 = failover.targetForAttempt(nowNs: 0, probeLostAfterNs: 1000 * Self.ms)
        #expect(t1 == .primary)
        failover.primaryWentDown(nowNs: 1000 * Self.ms)
        #expect(failover.target == .backup && failover.switches == 1)
        let t2 = failover.targetForAttempt(nowNs: 1050 * Self.ms, probeLostAfterNs: 1000 * Self.ms)
        #expect(t2 == .backup)
        // The probe is due at 1100: one attempt goes to the primary, the rest to the backup.
        let t3 = failover.targetForAttempt(nowNs: 1100 * Self.ms, probeLostAfterNs: 1000 * Self.ms)
        #expect(t3 == .primary)
        let t4 = failover.targetForAttempt(nowNs: 1101 * Self.ms, probeLostAfterNs: 1000 * Self.ms)
        #expect(t4 == .backup)
        // It failed: the next waits twice as long (200), then 400, and no longer.
        failover.primaryFailed(nowNs: 1110 * Self.ms)
        let t5 = failover.targetForAttempt(nowNs: 1300 * Self.ms, probeLostAfterNs: 1000 * Self.ms)
        #expect(t5 == .backup)
        let t6 = failover.targetForAttempt(nowNs: 1310 * Self.ms, probeLostAfterNs: 1000 * Self.ms)
        #expect(t6 == .primary)
        failover.primaryFailed(nowNs: 1310 * Self.ms)
        let third = failover.targetForAttempt(nowNs: 1710 * Self.ms, probeLostAfterNs: 1000 * Self.ms)
        #expect(third == .primary, "400 ms later")
        failover.primaryFailed(nowNs: 1710 * Self.ms)
        let t7 = failover.targetForAttempt(nowNs: 2110 * Self.ms, probeLostAfterNs: 1000 * Self.ms)
        #expect(t7 == .primary, "capped at max_backoff")
        // Answered: back, counted.
        let back = failover.primaryAnswered(), again = failover.primaryAnswered()
        #expect(back && failover.target == .primary && failover.switches == 2)
        #expect(!again, "the second answer is not news")
    }

    @Test func aProbeWithNoOutcomeIsGivenUpOn() {
        var failover = Failover(initialIntervalMs: 100, maxIntervalMs: 400)
        failover.primaryWentDown(nowNs: 0)
        let t8 = failover.targetForAttempt(nowNs: 100 * Self.ms, probeLostAfterNs: 500 * Self.ms)
        #expect(t8 == .primary)
        let t9 = failover.targetForAttempt(nowNs: 599 * Self.ms, probeLostAfterNs: 500 * Self.ms)
        #expect(t9 == .backup)
        let t10 = failover.targetForAttempt(nowNs: 600 * Self.ms, probeLostAfterNs: 500 * Self.ms)
        #expect(t10 == .primary)
    }

    @Test func aReloadWithoutTheBackupGoesBackToThePrimary() {
        var failover = Failover(initialIntervalMs: 100, maxIntervalMs: 400)
        failover.primaryWentDown(nowNs: 0)
        failover.backupRemoved()
        let target = failover.targetForAttempt(nowNs: 1, probeLostAfterNs: 1)
        #expect(failover.target == .primary && target == .primary)
    }
}
