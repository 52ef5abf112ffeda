#!/usr/bin/env python3
"""webhook_reload under load, as an operator does it: a real process
(broker_process.c) delivers, signed with secret 1, to receiver A; while
thousands of events are still on their way, the config file is rewritten
with receiver B and secret 2 and reloaded. Then:

  1. nothing is lost and nothing sent twice: every payload arrives once, at A or B;
  2. every request verifies with the Standard Webhooks reference verifier
     (the standardwebhooks package) with the secret in force when it was
     signed, and only with it: A's with secret 1, B's with secret 2;
  3. per client, everything A got came before everything B got, in order;
  4. a config with an error is refused with its file:line:col reason, a
     change that takes a restart (pool_size) is refused, and in both cases
     the running config stays: later events still go to B, signed with 2.

    reload_test.py PATH/TO/broker_process
"""
import base64, os, re, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Support"))
from e2e import BrokerProcess, Checks, Receiver, program_under_test, signature_verifies  # noqa: E402 (the shared end-to-end helpers)

program = program_under_test()
check = Checks()
SECRET_1 = "whsec_" + base64.b64encode(b"the first secret, 32 bytes long!").decode()
SECRET_2 = "whsec_" + base64.b64encode(b"the second secret, rotated in!!!").decode()


def config(port, secret, pool_size=4, extra=""):
    return ('webhook {\n  url = "http://127.0.0.1:%d/hook"\n  pool_size = %d\n  ordering = per_client\n'
            '  signing { secret = "%s" }\n  retry { initial_backoff = 20ms, max_backoff = 100ms }\n%s'
            '  events = [ { event = on_message_publish } ]\n}\n' % (port, pool_size, secret, extra))


def verifies(secret, request):
    return signature_verifies(secret, base64.b64decode(request["body"]), {k: v for k, v in request["headers"]})


def payloads(receiver):
    """(client seq numbers in arrival order) per request body, flattened."""
    import json
    return [json.loads(base64.b64decode(r["body"]))["payload"] for r in receiver.requests()]


def main():
    a, b = Receiver(), Receiver()
    directory = tempfile.mkdtemp(prefix="reload-")
    path = os.path.join(directory, "webhook.conf")
    with open(path, "w") as f:
        f.write(config(a.port, SECRET_1))
    process = BrokerProcess(program + ["0", path])
    process.command("emit 3000 9")
    # Rewritten in place, as an operator edits the file, and reloaded while the 3,000 are on their way.
    with open(path, "w") as f:
        f.write(config(b.port, SECRET_2))
    answer = process.command("reload " + path)
    check(answer and answer[0].startswith("reload 0 "), "the reload is accepted (%s)" % answer)
    process.command("emit 3000 9")

    with open(path, "w") as f:
        f.write(config(a.port, SECRET_1).replace("pool_size = 4", "pool_size = four"))
    answer = process.command("reload " + path)
    check(answer and re.match(r"reload -3 %s:3:\d+: webhook\.pool_size: .*; the running config stays" % re.escape(path), answer[0]),
          "a config with an error is refused with file:line:col and the key (%s)" % answer)
    process.command("emit 500 9")
    with open(path, "w") as f:
        f.write(config(a.port, SECRET_1, pool_size=8))
    answer = process.command("reload " + path)
    check(answer and answer[0].startswith("reload -3 %s: pool_size (4 -> 8) takes a restart; the running config stays" % path),
          "a change that takes a restart is refused (%s)" % answer)
    process.command("emit 500 9")
    process.command("settle")
    code, err = process.finish()
    check(code == 0, "broker_process's own checks (exit %d): %s" % (code, err[-1500:]))
    check("reloaded %s: url, signing" % path in err, "the log says what the reload changed")

    at_a, at_b = a.requests(), b.requests()
    got_a, got_b = payloads(a), payloads(b)
    print("reload: %d requests at A, %d at B" % (len(at_a), len(at_b)), flush=True)
    check(len(at_a) > 0 and len(at_b) > 0, "both receivers got some (%d, %d)" % (len(at_a), len(at_b)))
    everything = got_a + got_b
    check(len(everything) == 7000 and len(set(everything)) == 7000,
          "every event arrived once: %d requests, %d distinct, of 7000" % (len(everything), len(set(everything))))
    check(all(verifies(SECRET_1, r) and not verifies(SECRET_2, r) for r in at_a), "A's requests verify with secret 1 only")
    check(all(verifies(SECRET_2, r) and not verifies(SECRET_1, r) for r in at_b), "B's requests verify with secret 2 only")
    # broker_process spreads events over 7 clients, c(i % 7); payload "9:SEQ" counts over the run.
    seq_a = [int(p.split(":")[1]) for p in got_a]
    seq_b = [int(p.split(":")[1]) for p in got_b]
    check(min(seq_b) >= 0 and max(seq_a) < 3000, "A got only events emitted before the reload (max %d)" % max(seq_a))
    for client in range(7):
        mine_a = [s for s in seq_a if s % 7 == client % 7]
        mine_b = [s for s in seq_b if s % 7 == client % 7]
        check(mine_a == sorted(mine_a) and mine_b == sorted(mine_b) and (not mine_a or not mine_b or mine_a[-1] < mine_b[0]),
              "client %d: in order, A's before B's" % client)
    a.stop()
    b.stop()
    return check.summary("reload_test")


sys.exit(main())
