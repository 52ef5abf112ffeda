#!/usr/bin/env python3
"""Runs one isolation host under LD_DEBUG=bindings and checks, besides the
host's own checks, that no nng_* symbol of libswiftwebhook or of libnng was
bound to the host executable, and that libnng's calls into its own API
were bound to libnng itself (LD_DEBUG does not report the library's dlsym()
lookups; the host's aborting nng_* would end the run had one reached it).

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
binding = re.compile(r"binding file (\S+) \[\d+\] to (\S+) \[\d+\]: \w+ symbol `(nng_\w+)")
ours = lambda path: "libswiftwebhook" in path or "libnng.so" in path
wrong, internal = [], set()
for line in lines:
    m = binding.search(line)
    if not m or not ours(m.group(1)):
        continue
    source, target, symbol = m.groups()
    if os.path.realpath(target) == host or "libnng.so" not in target:
        wrong.append(line.strip())
    elif "libnng.so" in source:
        internal.add(symbol)

passed = failed = 0
def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("check failed: %s %s" % (what, detail))

check("the host's checks passed", status == 0, "(exit status %d)" % status)
check("no nng_* of the library or of libnng bound outside libnng", not wrong, "\n  " + "\n  ".join(wrong[:10]))
check("libnng's calls into its own API were bound to libnng", len(internal) >= 5,
      "(%d seen: %s)" % (len(internal), sorted(internal)))
print("check_bindings %s: %d nng_* bindings inside libnng; %d passed, %d failed"
      % (" ".join(sys.argv[2:3]) or "linked", len(internal), passed, failed))
sys.exit(1 if failed else 0)
