#!/usr/bin/env python3
"""compression = gzip through the C ABI, as a broker runs it: a real process
(broker_process.c) delivers 2,000 events in batches of up to 100, signed, to
a receiver that decompresses every body. Then:

  1. every request says Content-Encoding: gzip and is a gzip member whose
     contents are a JSON array of events; every event arrives, once;
  2. every request verifies with the Standard Webhooks reference verifier
     (the standardwebhooks package) over the bytes sent, and not over the
     decompressed ones: the signature covers what went on the wire;
  3. the bytes on the wire are fewer than the JSON's (printed: the ratio).

    compression_test.py PATH/TO/broker_process
"""
import base64, gzip, json, os, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Support"))
from e2e import BrokerProcess, Checks, Receiver, program_under_test, signature_verifies  # noqa: E402 (the shared end-to-end helpers)

program = program_under_test()
check = Checks()
SECRET = "whsec_" + base64.b64encode(b"a secret for gzip bodies, 32 B!!").decode()
EVENTS = 2000


def main():
    receiver = Receiver()
    directory = tempfile.mkdtemp(prefix="gzip-")
    path = os.path.join(directory, "webhook.conf")
    with open(path, "w") as f:
        f.write('webhook {\n  url = "http://127.0.0.1:%d/hook"\n  pool_size = 2\n  compression = gzip\n'
                '  batch { max_events = 100, max_delay = 20ms }\n  signing { secret = "%s" }\n'
                '  events = [ { event = on_message_publish } ]\n}\n' % (receiver.port, SECRET))
    process = BrokerProcess(program + ["0", path])
    process.command("emit %d 9" % EVENTS)
    process.command("settle")
    code, err = process.finish()
    check(code == 0, "the process ends cleanly (%s)" % err[-500:])

    requests = receiver.requests()
    payloads = []
    signed, over_json = 0, 0
    for r in requests:
        headers = {k: v for k, v in r["headers"]}
        wire, body = base64.b64decode(r["wire"]), base64.b64decode(r["body"])
        check(headers.get("content-encoding") == "gzip", "Content-Encoding: gzip on every request")
        check(gzip.decompress(wire) == body, "the body is one gzip member of the JSON")
        payloads += [event["payload"] for event in json.loads(body)]
        signed += signature_verifies(SECRET, wire, headers)
        over_json += signature_verifies(SECRET, body, headers)
    check(sorted(payloads) == sorted("9:%d" % i for i in range(EVENTS)),
          "every event arrives once (%d payloads in %d requests)" % (len(payloads), len(requests)))
    check(len(requests) < EVENTS // 10, "the events went in batches (%d requests)" % len(requests))
    check(signed == len(requests), "every request verifies over the bytes sent (%d of %d)" % (signed, len(requests)))
    check(over_json == 0, "no signature verifies over the decompressed bytes (%d did)" % over_json)
    stats = receiver.stats()
    receiver.stop()
    check(stats["wire_bytes"] < stats["body_bytes"], "gzip made the bodies smaller")
    print("gzip: %d bytes of JSON went as %d bytes (%.1f%%)" % (
        stats["body_bytes"], stats["wire_bytes"], 100.0 * stats["wire_bytes"] / max(1, stats["body_bytes"])))
    return check.summary("compression")


if __name__ == "__main__":
    sys.exit(main())
