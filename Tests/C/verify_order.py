#!/usr/bin/env python3
"""After order_test: every event arrived exactly once, each client's in order.

    verify_order.py EVENTS_PER_CLIENT      (the receiver's port in HOOK_PORT)"""
import base64, json, os, sys, urllib.request

per_client = int(sys.argv[1])
with urllib.request.urlopen("http://127.0.0.1:%s/_control/requests" % os.environ["HOOK_PORT"]) as r:
    requests = json.load(r)
sequences = {}
for request in requests:
    client, seq = json.loads(base64.b64decode(request["body"]))["payload"].split(":")
    sequences.setdefault(client, []).append(int(seq))
wrong = {c: s for c, s in sequences.items() if s != list(range(per_client))}
passed = failed = 0
for ok, what in [(len(sequences) == 800, "800 client ids (got %d)" % len(sequences)),
                 (len(requests) == 800 * per_client, "%d requests (got %d)" % (800 * per_client, len(requests))),
                 (not wrong, "each client's events once and in order (%d clients wrong, e.g. %s)"
                  % (len(wrong), next(iter(wrong.items()), None) and str(next(iter(wrong.items())))[:200]))]:
    if ok:
        passed += 1
    else:
        failed += 1
        print("check failed: " + what)
print("verify_order: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
