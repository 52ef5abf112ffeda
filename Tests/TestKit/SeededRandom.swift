import WebhookCore

/// The tests' reproducible generator: a failure replays from its seed.
public typealias SeededRandom = SplitMix64
