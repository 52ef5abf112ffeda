#!/usr/bin/env python3
"""Runs one isolation host under LD_DEBUG=bindings and checks, besides the
host's own checks, that no nng_*, sqlite3_* or mbedtls_* symbol of
libswiftwebhook or of its dependencies was bound to the host executable or
to any file but the dependency's own, and that libnng's and SQLite's calls
into their own API were bound to themselves (LD_DEBUG does not report the
library's dlsym() lookups; the host's aborting copies would end the run had
one reached them).

    check_bindings.py HOST [ARGS...]      (run by with_hookserver.py)"""
import os, re, subprocess, sys, tempfile

host = os.path.realpath(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    env = dict(os.environ, LD_DEBUG="bindings", LD_DEBUG_OUTPUT=os.path.join(tmp, "ld"))
    status = subprocess.call(sys.argv[1:], env=env, cwd=tmp)
    lines = []
    for name in os.listdir(tmp):
        if name.startswith("ld"):
            with open(os.path.join(tmp, name), errors="replace") as f:
                lines += f.read().splitlines()

# "binding file A [0] to B [0]: normal symbol `nng_x'"
binding = re.compile(r"binding file (\S+) \[\d+\] to (\S+) \[\d+\]: \w+ symbol `((nng|sqlite3|mbedtls|psa)_\w+)")
# Where each family's definitions must come from.
home = {"nng": "libnng.so", "sqlite3": "libsqlite3.so", "mbedtls": "libmbed", "psa": "libmbed"}
ours = lambda path: any(name in path for name in ("libswiftwebhook", "libnng.so", "libsqlite3.so", "libmbed"))
wrong, internal = [], {"nng": set(), "sqlite3": set()}
for line in lines:
    m = binding.search(line)
    if not m or not ours(m.group(1)):
        continue
    source, target, symbol, family = m.groups()
    if os.path.realpath(target) == host or home[family] not in target:
        wrong.append(line.strip())
    elif family in internal and home[family] in source:
        internal[family].add(symbol)

passed = failed = 0
def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("check failed: %s %s" % (what, detail))

check("the host's checks passed", status == 0, "(exit status %d)" % status)
check("no nng_*, sqlite3_* or mbedtls_* of the library or of its dependencies bound outside them", not wrong,
      "\n  " + "\n  ".join(wrong[:10]))
check("libnng's calls into its own API were bound to libnng", len(internal["nng"]) >= 5,
      "(%d seen: %s)" % (len(internal["nng"]), sorted(internal["nng"])))
check("SQLite's calls into its own API were bound to libsqlite3", len(internal["sqlite3"]) >= 5,
      "(%d seen: %s)" % (len(internal["sqlite3"]), sorted(internal["sqlite3"])[:20]))
print("check_bindings %s: %d nng_* and %d sqlite3_* bindings inside their own library; %d passed, %d failed"
      % (" ".join(sys.argv[2:3]) or "linked", len(internal["nng"]), len(internal["sqlite3"]), passed, failed))
sys.exit(1 if failed else 0)
