"""What the end-to-end tests share (brokers, packages, the spool's processes):
free ports, polling, the HTTP receiver (Tests/Support/hookserver.py) run as
a child process, and a light in-process receiver that only counts."""
import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOOKSERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hookserver.py")


def program_under_test():
    """The C suite's Python drivers: the program they drive (their first
    argument) as a command, behind the emulator a cross build runs it with."""
    return os.environ.get("SWH_EMULATOR", "").split() + [sys.argv[1]]


def signature_verifies(secret, body, headers):
    """Whether the Standard Webhooks reference verifier (the standardwebhooks
    package) accepts `body` as signed by `secret`. The verifier checks the
    signature first, then parses the body as JSON, which a gzip body is not:
    past the check, it verified."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
    try:
        Webhook(secret).verify(body, headers)
        return True
    except WebhookVerificationError:
        return False
    except ValueError:  # UnicodeDecodeError, JSONDecodeError: after the signature matched
        return True


class Checks:
    """Counts checks for a test script that runs on after a failed one (the
    C suite's Python drivers): a failed check prints what failed."""

    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("check failed: " + what, flush=True)

    def summary(self, name):
        """Prints the counts; returns the exit status."""
        print("%s: %d passed, %d failed" % (name, self.passed, self.failed), flush=True)
        return 1 if self.failed else 0


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


class CountingReceiver:
    """A webhook receiver in this process on PORT that keeps only each
    client's payload numbers (payloads "client:n"): light enough for the
    spool tests' hundreds of thousands of events, where Receiver keeps
    every request whole."""

    def __init__(self, port):
        self.lock = threading.Lock()
        self.by_client = {}
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                events = json.loads(body)
                if isinstance(events, dict):
                    events = [events]
                with receiver.lock:
                    receiver.requests += 1
                    for event in events:
                        client, n = event["payload"].split(":")
                        receiver.by_client.setdefault(client, []).append(int(n))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def total(self):
        with self.lock:
            return sum(len(v) for v in self.by_client.values())


class BrokerProcess:
    """Tests/C/broker_process.c: a broker process driven by commands on stdin."""

    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)

    def command(self, line):
        """Sends a command; returns what it printed before its "ok"."""
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        out = []
        while True:
            got = self.process.stdout.readline()
            if not got:
                raise RuntimeError("broker_process ended: " + self.process.stderr.read()[-2000:])
            if got.strip() == "ok " + line:
                return out
            out.append(got)

    def report(self):
        """The stats struct and the parsed metrics, from one moment."""
        from prometheus_client.parser import text_string_to_metric_families
        lines = self.command("report")
        stats = {k: int(v) for k, v in (part.split("=") for part in lines[0].split()[1:])}
        text = "".join(lines[lines.index("metrics-begin\n") + 1:lines.index("metrics-end\n")])
        samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return stats, samples, text

    def finish(self):
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        out, err = self.process.communicate(timeout=120)
        return self.process.returncode, err
