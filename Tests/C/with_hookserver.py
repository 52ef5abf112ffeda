#!/usr/bin/env python3
"""Runs a test program with a fresh hookserver: with_hookserver.py PROGRAM [ARGS...]

The server's port is passed in HOOK_PORT; the program's exit status is ours."""
import os, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
server = subprocess.Popen([sys.executable, os.path.join(here, "..", "Support", "hookserver.py")],
                          stdout=subprocess.PIPE, text=True)
try:
    line = server.stdout.readline()
    if not line.startswith("PORT "):
        sys.exit("hookserver did not start: %r" % line)
    env = dict(os.environ, HOOK_PORT=line.split()[1])
    sys.exit(subprocess.call(sys.argv[1:], env=env))
finally:
    server.kill()
    server.wait()
