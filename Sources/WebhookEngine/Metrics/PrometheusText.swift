import WebhookCore

/// The metrics as text in the Prometheus exposition format (0.0.4, which
/// OpenMetrics parsers read too): what `webhook_get_metrics` returns, what
/// NanoMQ's `/api/v4/prometheus` appends and Mosquitto's plugin publishes
/// from. One prefix, `swiftwebhook_`; counters end in `_total`, durations
/// are `_seconds`, sizes `_bytes` (docs/operating.md lists them).
///
/// Numbers are written by hand: Embedded Swift prints no floating point, and
/// every value here is an integer count or a whole number of microseconds.
public enum PrometheusText {
    public static let prefix = "swiftwebhook_"

    /// `endpoints` nil: the instance is disabled (`enable = false`); only the
    /// info and `enabled` lines. One sample per endpoint in each family,
    /// labelled `endpoint="<name>"` when the config names its endpoints
    /// (the single-URL config's lines carry no endpoint label).
    public static func render(_ endpoints: [EngineMetrics]?, version: String) -> String {
        var text = Writer()
        text.family("info", "gauge", "The library delivering the webhook, by version.")
        text.sample("info", labels: "version=\"\(escaped(version))\"", "1")
        text.family("enabled", "gauge", "1 when the webhook is enabled (enable = true), else 0.")
        text.sample("enabled", endpoints == nil ? "0" : "1")
        guard let endpoints else { return text.output }
        text.endpoints = endpoints
        text.labelled = endpoints.count > 1 || endpoints.contains { $0.endpoint != WebhookSettings.defaultEndpointName }

        text.perKind("matched_events_total", "Events that passed the rules (queued, or dropped and counted), by event type.") { $0.stats.matchedByKind }
        text.perKind("delivered_events_total", "Events answered with a 2xx, by event type (an earlier run's spooled events included).") { $0.stats.deliveredByKind }
        text.perKind("failed_events_total", "Events given up on: a 4xx not retried, or attempts or max_elapsed used up, by event type.") { $0.stats.failedByKind }
        text.counter("retried_attempts_total", "Attempts beyond each event's first.") { $0.stats.retried }
        text.family("dropped_events_total", "counter", "Events dropped, by reason: queue_full (queue bounds), shutdown (drain_timeout), spool (spool full or behind).")
        text.each("dropped_events_total", labels: "reason=\"queue_full\"") { "\($0.stats.droppedQueueFull)" }
        text.each("dropped_events_total", labels: "reason=\"shutdown\"") { "\($0.stats.droppedShutdown)" }
        text.each("dropped_events_total", labels: "reason=\"spool\"") { "\($0.stats.droppedSpool)" }
        text.counter("connections_opened_total", "HTTP connections opened (reconnects included).") { $0.stats.connectionsOpened }
        text.counter("spool_replayed_events_total", "Events found in the spool at start: an earlier run's.") { $0.stats.spoolReplayed }
        text.counter("spool_written_events_total", "Events committed to the spool (with durability = crash, these survive kill -9).") { $0.stats.spoolWritten }
        text.counter("dead_letters_dropped_total", "Dead letters dropped past spool.dead_letters or spool.dead_letter_max_age, or not written.") { $0.stats.deadLettersDropped }
        text.counter("endpoint_outages_total", "Times the endpoint went down (\(EndpointHealth.downAfter) failed attempts in a row).") { $0.outages }
        text.counter("endpoint_disabled_total", "Times the endpoint answered 410 Gone and was disabled until a reload.") { $0.disables }
        text.counter("circuit_opened_total", "Times the circuit breaker opened (circuit_breaker.failures failed attempts in a row).") { $0.circuitOpened }
        text.counter("failovers_total", "Times delivery switched to backup_url (the url down) or back (the url answered a probe).") { $0.failovers }

        text.gauge("queued_events", "Events waiting in memory now.") { $0.stats.queued }
        text.gauge("queued_bytes", "Memory the queued events hold now.") { $0.stats.queuedBytes }
        text.gauge("in_flight_events", "Events being sent, or waiting for a retry, now.") { $0.stats.inFlight }
        text.gauge("spooled_events", "Events the spool holds and memory does not, now.") { $0.stats.spooled }
        text.gauge("spool_rows", "Events in the spool's database now.") { $0.stats.spoolRows }
        text.gauge("spool_bytes", "The spool database's size now.") { $0.stats.spoolBytes }
        text.gauge("connections_open", "HTTP connections open now.") { $0.stats.connectionsOpen }
        text.gauge("dead_letters", "Failed events kept in the spool with their reason now (webhookctl dead).") { $0.stats.deadLetters }

        text.family("endpoint_state", "gauge", "The endpoint: up (answering), retrying (its last attempts failed), down (\(EndpointHealth.downAfter) or more in a row), disabled (it answered 410 Gone; until a reload); 1 for the current state.")
        for (state, name) in [(EndpointHealth.State.up, "up"), (.retrying, "retrying"), (.down, "down"), (.disabled, "disabled")] {
            text.each("endpoint_state", labels: "state=\"\(name)\"") { $0.endpointState == state ? "1" : "0" }
        }
        text.family("circuit_state", "gauge", "The circuit breaker: closed (attempts go), open (none until the probe time), half_open (one probe is out); 1 for the current state.")
        for (state, name) in [(CircuitBreaker.State.closed, "closed"), (.open, "open"), (.halfOpen, "half_open")] {
            text.each("circuit_state", labels: "state=\"\(name)\"") { $0.circuitState == state ? "1" : "0" }
        }
        text.family("target", "gauge", "Where events go: primary (url) or backup (backup_url, while url is down); 1 for the current one.")
        text.each("target", labels: "url=\"primary\"") { $0.onBackup ? "0" : "1" }
        text.each("target", labels: "url=\"backup\"") { $0.onBackup ? "1" : "0" }
        text.family("last_delivery_age_seconds", "gauge", "Seconds since the last 2xx; NaN before the first.")
        text.each("last_delivery_age_seconds") { metrics in metrics.sinceLastDeliveredNs.map { seconds(microseconds: $0 / 1000) } ?? "NaN" }
        text.family("oldest_waiting_event_age_seconds", "gauge", "How long the oldest event in memory or in the spool has waited; 0 when none waits.")
        text.each("oldest_waiting_event_age_seconds") { seconds(microseconds: max(($0.oldestQueuedAgeNs ?? 0) / 1000, ($0.spoolOldestAgeMs ?? 0) * 1000)) }
        text.family("spool_oldest_event_age_seconds", "gauge", "How old the oldest event on disk (and not in memory) is; 0 when none.")
        text.each("spool_oldest_event_age_seconds") { seconds(microseconds: ($0.spoolOldestAgeMs ?? 0) * 1000) }

        text.family("delivery_latency_seconds", "histogram", "From webhook_emit to the 2xx, per delivered event.")
        for metrics in endpoints {
            text.current = metrics
            let latency = metrics.stats.latency
            let cumulative = latency.cumulative
            for (i, bound) in LatencyBuckets.boundsUs.enumerated() {
                text.sample("delivery_latency_seconds_bucket", labels: "le=\"\(seconds(microseconds: bound))\"", "\(cumulative[i])")
            }
            text.sample("delivery_latency_seconds_bucket", labels: "le=\"+Inf\"", "\(latency.count)")
            text.sample("delivery_latency_seconds_sum", seconds(microseconds: latency.sumUs))
            text.sample("delivery_latency_seconds_count", "\(latency.count)")
        }
        return text.output
    }

    /// A whole number of microseconds as seconds: "0.0005", "2.5", "60".
    static func seconds(microseconds: UInt64) -> String {
        let whole = microseconds / 1_000_000
        var fraction = microseconds % 1_000_000
        guard fraction > 0 else { return "\(whole)" }
        var digits = 6
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let text = "\(fraction)"
        return "\(whole)." + String(repeating: "0", count: digits - text.utf8.count) + text
    }

    /// A label value: backslash, double quote and newline escaped.
    static func escaped(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Appends lines; every name gets the prefix, and with `labelled` every
    /// sample its endpoint's label first.
    private struct Writer {
        var output = ""
        var endpoints: [EngineMetrics] = []
        var labelled = false
        /// The endpoint whose samples are being written.
        var current: EngineMetrics?

        mutating func family(_ name: String, _ type: String, _ help: String) {
            output += "# HELP \(PrometheusText.prefix)\(name) \(help)\n# TYPE \(PrometheusText.prefix)\(name) \(type)\n"
        }

        mutating func sample(_ name: String, labels: String = "", _ value: String) {
            output += PrometheusText.prefix + name
            var all = labels
            if labelled, let current {
                let endpoint = "endpoint=\"\(PrometheusText.escaped(current.endpoint))\""
                all = labels.isEmpty ? endpoint : "\(endpoint),\(labels)"
            }
            if !all.isEmpty { output += "{\(all)}" }
            output += " \(value)\n"
        }

        /// One sample per endpoint.
        mutating func each(_ name: String, labels: String = "", _ value: (EngineMetrics) -> String) {
            for metrics in endpoints {
                current = metrics
                sample(name, labels: labels, value(metrics))
            }
        }

        mutating func counter(_ name: String, _ help: String, _ value: (EngineMetrics) -> UInt64) {
            family(name, "counter", help)
            each(name) { "\(value($0))" }
        }

        mutating func gauge(_ name: String, _ help: String, _ value: (EngineMetrics) -> UInt64) {
            family(name, "gauge", help)
            each(name) { "\(value($0))" }
        }

        mutating func perKind(_ name: String, _ help: String, _ counts: (EngineMetrics) -> PerKindCounts) {
            family(name, "counter", help)
            for metrics in endpoints {
                current = metrics
                let perKind = counts(metrics)
                for kind in EventKind.allCases {
                    sample(name, labels: "event=\"\(kind.configName)\"", "\(perKind[kind])")
                }
            }
        }
    }
}
