#!/usr/bin/env python3
"""webhook_get_metrics, read as Prometheus reads it: a real process
(broker_process.c) delivers to a real receiver, and its metrics text is
parsed with the Prometheus project's own parser (prometheus_client) and
compared with webhook_get_stats, taken at the same quiet moment:

  1. an endpoint that answers (two 500s retried, one 400 failed): every
     counter and gauge of the stats struct, per-type counts that add up to
     the totals, the latency histogram's buckets and count, the endpoint up;
  2. the receiver gone: the endpoint goes down (state, outage count, the one
     log line with the first failure), the oldest waiting event ages;
  3. the receiver back on the same port: up again, the log line says for how
     long it was down and how many events waited, everything delivered.

    metrics_test.py PATH/TO/broker_process
"""
import math, os, re, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Support"))
from e2e import BrokerProcess, Checks, Receiver, program_under_test  # noqa: E402 (the shared end-to-end helpers)

program = program_under_test()
check = Checks()
KINDS = ["client_connect", "client_connack", "client_connected", "client_disconnected", "client_subscribe",
         "client_unsubscribe", "session_subscribed", "session_unsubscribed", "session_terminated",
         "message_publish", "message_delivered", "message_acked"]



def value(samples, name, **labels):
    return samples.get(("swiftwebhook_" + name, tuple(sorted(labels.items()))))


def per_kind(samples, name):
    return {kind: value(samples, name, event="on_" + kind) for kind in KINDS}


def check_against_stats(stats, samples, when):
    """Every counter and gauge of swiftwebhook_stats, as the metrics say it."""
    for metric, field in [("retried_attempts_total", "retried"), ("connections_opened_total", "connections_opened"),
                          ("spool_replayed_events_total", "spool_replayed"), ("spool_written_events_total", "spool_written"),
                          ("queued_events", "queued"), ("queued_bytes", "queued_bytes"), ("in_flight_events", "in_flight"),
                          ("spooled_events", "spooled"), ("spool_rows", "spool_rows"), ("spool_bytes", "spool_bytes"),
                          ("connections_open", "connections_open")]:
        check(value(samples, metric) == stats[field], "%s: %s is %s, stats say %d" % (when, metric, value(samples, metric), stats[field]))
    for reason, field in [("queue_full", "dropped_queue_full"), ("shutdown", "dropped_shutdown"), ("spool", "dropped_spool")]:
        got = value(samples, "dropped_events_total", reason=reason)
        check(got == stats[field], "%s: dropped{%s} is %s, stats say %d" % (when, reason, got, stats[field]))
    for metric, field in [("matched_events_total", "matched"), ("delivered_events_total", "delivered"),
                          ("failed_events_total", "failed")]:
        counts = per_kind(samples, metric)
        check(None not in counts.values(), "%s: %s has a sample per event type (%s)" % (when, metric, counts))
        check(sum(v or 0 for v in counts.values()) == stats[field],
              "%s: %s adds up to %d (%s)" % (when, metric, stats[field], counts))
    buckets = sorted(((float(dict(labels)["le"]), v) for (name, labels), v in samples.items()
                      if name == "swiftwebhook_delivery_latency_seconds_bucket"))
    check(len(buckets) == 17 and buckets[-1][0] == math.inf, "%s: 16 latency buckets and +Inf (%s)" % (when, buckets))
    check(all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), "%s: the buckets are cumulative" % when)
    check(buckets[-1][1] == stats["delivered"] == value(samples, "delivery_latency_seconds_count"),
          "%s: the histogram counts every delivered event (%s, %d)" % (when, buckets[-1], stats["delivered"]))
    total = value(samples, "delivery_latency_seconds_sum")
    check(total is not None and (total > 0) == (stats["delivered"] > 0), "%s: the latency sum (%s)" % (when, total))
    check(re.fullmatch(r"\d+\.\d+\.\d+", dict(next(labels for (name, labels) in samples if name == "swiftwebhook_info"))["version"])
          is not None, "%s: swiftwebhook_info carries the version" % when)
    check(value(samples, "enabled") == 1, "%s: enabled" % when)


def state(samples):
    return [s for s in ("up", "retrying", "down") if value(samples, "endpoint_state", state=s) == 1]


def main():
    receiver = Receiver()
    port = receiver.port
    # Two 500s (retried) and a 400 (failed, not retried), then 200s.
    receiver.behave(default={"status": 200}, script=[{"status": 500}, {"status": 500}, {"status": 400}])
    process = BrokerProcess(program + [str(port)])
    process.command("emit 10 0")   # on_client_connect
    process.command("emit 5 3")    # on_client_disconnected
    process.command("emit 30 9")   # on_message_publish
    process.command("emit 4 4")    # on_client_subscribe: no rule wants it
    process.command("settle")
    stats, samples, text = process.report()
    print("answering: " + " ".join("%s=%d" % kv for kv in stats.items()), flush=True)
    check_against_stats(stats, samples, "answering")
    matched = per_kind(samples, "matched_events_total")
    check(matched["client_connect"] == 10 and matched["client_disconnected"] == 5 and matched["message_publish"] == 30
          and sum(matched.values()) == 45, "answering: matched per type is what was emitted (%s)" % matched)
    check(stats["failed"] == 1 and stats["delivered"] == 44 and stats["retried"] >= 2,
          "answering: one 400 failed, the 500s were retried (%s)" % stats)
    check(per_kind(samples, "failed_events_total")[KINDS[0]] + per_kind(samples, "failed_events_total")[KINDS[3]]
          + per_kind(samples, "failed_events_total")[KINDS[9]] == 1, "answering: the failure is counted under its type")
    check(state(samples) == ["up"], "answering: the endpoint is up (%s)" % state(samples))
    age = value(samples, "last_delivery_age_seconds")
    check(age is not None and 0 <= age < 600, "answering: seconds since the last 2xx (%s)" % age)
    check(value(samples, "oldest_waiting_event_age_seconds") == 0, "answering: nothing waits")
    check(value(samples, "endpoint_outages_total") == 0, "answering: no outage")

    receiver.stop()
    process.command("emit 20 9")
    process.command("waitdown")
    stats, samples, _ = process.report()
    print("down: " + " ".join("%s=%d" % kv for kv in stats.items()), flush=True)
    # Not quiet (retries go on between the two reads): the text is checked against itself, one snapshot.
    delivered = sum(per_kind(samples, "delivered_events_total").values())
    check(value(samples, "delivery_latency_seconds_count") == delivered, "down: the histogram counts every delivered event")
    check(sum(per_kind(samples, "matched_events_total").values()) == 65, "down: 65 matched")
    check(state(samples) == ["down"] and value(samples, "endpoint_outages_total") == 1,
          "down: the endpoint is down, one outage (%s)" % state(samples))
    waiting = stats["queued"] + stats["in_flight"]
    check(waiting > 0 or stats["failed"] > 1, "down: events wait or were given up on (%s)" % stats)

    receiver = Receiver(port)
    process.command("emit 5 9")
    process.command("settle")
    stats, samples, _ = process.report()
    print("back: " + " ".join("%s=%d" % kv for kv in stats.items()), flush=True)
    check_against_stats(stats, samples, "back")
    check(state(samples) == ["up"] and value(samples, "endpoint_outages_total") == 1, "back: up again (%s)" % state(samples))
    check(stats["delivered"] + stats["failed"] == stats["matched"] == 70, "back: every event finished (%s)" % stats)
    receiver.stop()

    code, err = process.finish()
    print(err.splitlines()[-1] if err else "", flush=True)
    check(code == 0, "broker_process's own checks (exit %d): %s" % (code, err[-1500:]))
    downs = [line for line in err.splitlines() if ": down: 3 attempts in a row failed" in line]
    ups = [line for line in err.splitlines() if ": up again after " in line]
    check(len(downs) == 1 and "the first: " in downs[0], "one log line when it went down, with the first failure (%s)" % downs)
    check(len(ups) == 1 and re.search(r"up again after [0-9.]+ s down; \d+ event\(s\) were waiting", ups[0]) is not None,
          "one log line when it came back, how long and how many waited (%s)" % ups)
    return check.summary("metrics_test")


sys.exit(main())
