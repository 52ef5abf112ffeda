"""What the broker end-to-end tests share: free ports, polling, and the HTTP
receiver (Tests/Support/hookserver.py) run as a child process."""
import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

HOOKSERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hookserver.py")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


class Receiver:
    """The HTTP endpoint the webhook posts to."""

    def __init__(self, port=0):
        self.process = subprocess.Popen([sys.executable, HOOKSERVER, "--port", str(port)],
                                        stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline().split()[1])

    def _get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path)) as r:
            return json.load(r)

    def requests(self):
        return self._get("/_control/requests")

    def stats(self):
        return self._get("/_control/stats")

    def behave(self, default=None, script=()):
        """Sets how the receiver answers (see hookserver.py)."""
        data = json.dumps({"default": default or {}, "script": list(script)}).encode()
        request = urllib.request.Request("http://127.0.0.1:%d/_control/behaviour" % self.port, data=data, method="POST")
        urllib.request.urlopen(request).read()

    def raw_bodies(self):
        return [base64.b64decode(r["body"]) for r in self.requests()]

    def bodies(self):
        return [json.loads(body) for body in self.raw_bodies()]

    def settle(self, at_least=0, quiet=1.0, timeout=120.0):
        """Waits until at least `at_least` requests came and then none for `quiet` s."""
        deadline = time.time() + timeout
        last, since = -1, time.time()
        while time.time() < deadline:
            count = self.stats()["requests"]
            if count != last:
                last, since = count, time.time()
            elif count >= at_least and time.time() - since >= quiet:
                return count
            time.sleep(0.1)
        return last

    def stop(self):
        self.process.kill()
        self.process.wait()
