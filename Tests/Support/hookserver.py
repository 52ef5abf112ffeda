#!/usr/bin/env python3
"""A webhook receiver for the tests: a real HTTP/1.1 server on loopback that
records what it gets and misbehaves on request.

    hookserver.py [--port N] [--cert F --key F [--client-ca F]] [--print]

With --print, every webhook request is also pretty-printed to stdout.

Prints "PORT <n>" once listening. Control endpoints (never recorded):
    GET  /_control/requests   recorded requests as JSON
    GET  /_control/stats      {"connections", "open", "requests", "pipelined", "wire_bytes", "body_bytes"}: n
    POST /_control/behaviour  JSON: {"default": {...}, "script": [{...}, ...]}
    POST /_control/clear      forget recorded requests and counters
A behaviour is {"status": 200, "delay_ms": 0, "close": false, "reset": false,
"chunked": false, "no_length": false, "retry_after": null, "close_after": 0,
"fail_rate": 0.0, "chaos": false, "interim": [], "body_size": 0, "endless": false};
"interim" lists 1xx statuses sent before the answer, "body_size" answers with
that many bytes (Content-Length), "endless" with a chunked body that never ends; "script" entries are used once each, in order,
before "default". "chaos" picks per request: 500 (10%), a 50 ms delay (10%),
a reset (5%), Connection: close (5%), otherwise 200.
"""
import argparse, base64, gzip, json, os, random, select, signal, socket, ssl, struct, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
requests = []
stats = {"connections": 0, "open": 0, "requests": 0, "pipelined": 0, "wire_bytes": 0, "body_bytes": 0, "active": 0}
behaviour = {"default": {}, "script": []}
rng = random.Random(1234)
pretty = False


def next_behaviour():
    with lock:
        if behaviour["script"]:
            return dict(behaviour["script"].pop(0))
        return dict(behaviour["default"])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, delayed
        # ACKs add 40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.served = 0
        with lock:
            stats["connections"] += 1
            stats["open"] += 1

    def finish(self):
        with lock:
            stats["open"] -= 1
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, *args):
        pass

    def next_request_waiting(self):
        """Whether the next request had arrived before this one was answered:
        the sender pipelines (no sender that waits for answers ever does)."""
        if select.select([self.connection], [], [], 0)[0]:
            return True
        self.connection.setblocking(False)
        try:
            return len(self.rfile.peek(1)) > 0
        except OSError:
            return False
        finally:
            self.connection.setblocking(True)

    def reply(self, status, body=b"", headers=()):
        try:
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # A sender that does not read answers (NanoMQ's own webhook) has gone.
            self.close_connection = True

    def do_GET(self):
        if self.path == "/_control/requests":
            with lock:
                body = json.dumps(requests).encode()
            self.reply(200, body, [("Content-Type", "application/json")])
        elif self.path == "/_control/stats":
            with lock:
                body = json.dumps(stats).encode()
            self.reply(200, body, [("Content-Type", "application/json")])
        else:
            self.reply(404)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path == "/_control/behaviour":
            with lock:
                new = json.loads(body)
                behaviour["default"] = new.get("default", {})
                behaviour["script"] = list(new.get("script", []))
            return self.reply(204)
        if self.path == "/_control/clear":
            with lock:
                requests.clear()
                stats.update({"connections": 0, "requests": 0, "pipelined": 0, "wire_bytes": 0, "body_bytes": 0})
            return self.reply(204)
        # "active": the webhook requests being answered when this one came,
        # itself included (a sender with one request at a time sees 1).
        with lock:
            stats["active"] += 1
        try:
            self.hook(body)
        finally:
            with lock:
                stats["active"] -= 1

    def hook(self, body):
        # A gzip body is recorded decompressed ("body"), as sent ("wire"):
        # signatures cover the bytes sent. One that does not decompress is refused.
        wire = body
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            try:
                body = gzip.decompress(wire)
            except (OSError, EOFError):
                return self.reply(400, b"not gzip")
        b = next_behaviour()
        if b.get("chaos"):
            roll = rng.random()
            if roll < 0.10:
                b["status"] = 500
            elif roll < 0.20:
                b["delay_ms"] = 50
            elif roll < 0.25:
                b["reset"] = True
            elif roll < 0.30:
                b["close"] = True
        status = b.get("status", 200)
        if b.get("fail_rate") and rng.random() < b["fail_rate"]:
            status = 500
        ahead = self.next_request_waiting()
        with lock:
            stats["requests"] += 1
            stats["pipelined"] += 1 if ahead else 0
            stats["wire_bytes"] += len(wire)
            stats["body_bytes"] += len(body)
            requests.append({
                "wire": base64.b64encode(wire).decode(),
                "method": self.command, "path": self.path,
                "headers": [[k.lower(), v] for k, v in self.headers.items()],
                "body": base64.b64encode(body).decode(), "status": status,
                "time": time.time(), "active": stats["active"],
            })
        if pretty:
            try:
                shown = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
            except ValueError:
                shown = repr(body)
            print("--> %s %s  (%s)\n%s" % (self.command, self.path, self.headers.get("Content-Type"), shown), flush=True)
        if b.get("delay_ms"):
            time.sleep(b["delay_ms"] / 1000.0)
        if b.get("reset"):
            # RST instead of an answer: SO_LINGER with a zero timeout.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        self.served += 1
        headers = []
        if b.get("retry_after") is not None:
            headers.append(("Retry-After", str(b["retry_after"])))
        close = b.get("close") or (b.get("close_after") and self.served >= b["close_after"])
        if close:
            headers.append(("Connection", "close"))
            self.close_connection = True
        reply_body = b"ok"
        try:
            for code in b.get("interim", []):
                self.wfile.write(b"HTTP/1.1 %d Interim\r\n\r\n" % code)
            if b.get("body_size"):
                self.send_response(status)
                self.send_header("Content-Length", str(b["body_size"]))
                self.end_headers()
                piece, left = b"x" * 65536, b["body_size"]
                while left > 0:
                    self.wfile.write(piece[:min(left, len(piece))])
                    left -= min(left, len(piece))
                return
            if b.get("endless"):
                self.send_response(status)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                piece = b"%x\r\n%s\r\n" % (65536, b"y" * 65536)
                for _ in range(1 << 16):  # 4 GiB at most, far more than any reader should take
                    self.wfile.write(piece)
                return
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        if b.get("chunked"):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"2\r\nok\r\n3\r\n!!!\r\n0\r\n\r\n")
        elif b.get("no_length"):
            # A body delimited by closing the connection (HTTP/1.0 style).
            self.send_response(status)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply_body)
            self.close_connection = True
        else:
            self.reply(status, reply_body if status != 204 else b"", headers)


def main():
    # The test runner may spawn us with SIGTERM blocked; make it work.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--client-ca")
    parser.add_argument("--print", action="store_true")
    parser.add_argument("--chaos", action="store_true", help="start with the chaos behaviour")
    args = parser.parse_args()
    global pretty
    pretty = args.print
    if args.chaos:
        behaviour["default"] = {"chaos": True}
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(args.client_ca)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("PORT", server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
