"""End-to-end: a real Mosquitto 2.0 broker with the plugin loaded, a real HTTP
receiver (Tests/Support/hookserver.py), real MQTT clients (mosquitto_pub/sub).

    MOSQUITTO_PLUGIN=build/mosquitto/libmosquitto_swiftwebhook.so pytest brokers/mosquitto/tests
"""
import base64
import json
import getpass
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PLUGIN = os.environ.get("MOSQUITTO_PLUGIN", os.path.join(ROOT, "build", "mosquitto", "libmosquitto_swiftwebhook.so"))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Support"))
from e2e import Receiver, free_port, wait_until  # noqa: E402


class Broker:
    """mosquitto on a free loopback port with the plugin and a webhook config."""

    def __init__(self, tmp_path, webhook, extra="", plugin_options=""):
        if "allow_anonymous" not in extra:
            extra += "\nallow_anonymous true"  # Mosquitto 2.0's default with a listener is false
        self.port = free_port()
        self.config = tmp_path / "webhook.conf"
        self.config.write_text(webhook)
        conf = tmp_path / "mosquitto.conf"
        conf.write_text(
            "listener %d 127.0.0.1\n"
            "plugin %s\n"
            "plugin_opt_config %s\n"
            "%s\n"
            "log_dest file %s\n"
            "log_type all\n"
            # As root, mosquitto would switch to user "mosquitto" and lose the tmp dir.
            "user %s\n" % (self.port, PLUGIN, self.config, plugin_options + "\n" + extra, tmp_path / "broker.log",
                            getpass.getuser()))
        self.log_path = tmp_path / "broker.log"
        self.process = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert wait_until(self._listening, 10), "mosquitto did not start: %s" % self.log()

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def pub(self, *args, stdin=None, check=True):
        return subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), *args],
                              input=stdin, capture_output=True, timeout=60, check=check)

    def sub(self, *args):
        return subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def log(self):
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def webhook_conf(receiver, rules, encoding="plain", extra=""):
    return ('webhook {\n  url = "http://127.0.0.1:%d/hook"\n  body.encoding = %s\n%s\n  events = [\n%s\n  ]\n}\n'
            % (receiver.port, encoding, extra, rules))


PUBLISH_AND_DISCONNECT = '    { event = on_message_publish, topic = "demo/#" }\n    { event = on_client_disconnected }'


@pytest.mark.parametrize("encoding,expected", [
    ("plain", "bin\u0000\ufffd\ufffd"),
    ("base64", base64.b64encode(b"bin\x00\xff\xfe").decode()),
    ("base62", None),
])
def test_publish_bodies_in_every_encoding(tmp_path, receiver, encoding, expected):
    broker = Broker(tmp_path, webhook_conf(receiver, PUBLISH_AND_DISCONNECT, encoding))
    try:
        broker.pub("-i", "pub1", "-u", "alice", "-t", "demo/text", "-q", "1", "-m", 'hello "world"')
        broker.pub("-i", "pub2", "-t", "demo/bin", "-s", stdin=b"bin\x00\xff\xfe")
        broker.pub("-i", "pub3", "-t", "other/topic", "-m", "not matched")
        assert wait_until(lambda: len(receiver.requests()) >= 5)
    finally:
        broker.stop()
    bodies = receiver.bodies()
    publishes = [b for b in bodies if b["action"] == "message_publish"]
    # pub1 and pub2 are different clients, so their events may take different lanes and arrive in either order.
    by_topic = {p["topic"]: p for p in publishes}
    assert sorted(p["topic"] for p in publishes) == ["demo/bin", "demo/text"], "the topic rule filters other/topic"
    text = by_topic["demo/text"]
    assert list(text) == ["ts", "topic", "retain", "qos", "action", "from_username", "from_client_id", "payload"]
    assert text["from_client_id"] == "pub1" and text["from_username"] == "alice" and text["qos"] == 1
    binary = by_topic["demo/bin"]
    assert binary["from_username"] == "undefined"
    if encoding == "base62":
        n = int.from_bytes(b"bin\x00\xff\xfe", "big")
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        digits = ""
        while n:
            n, r = divmod(n, 62)
            digits = alphabet[r] + digits
        expected = digits
    assert binary["payload"] == expected, "NanoMQ truncates at the NUL byte; the plugin must not"
    if encoding == "plain":
        assert text["payload"] == 'hello "world"'
    disconnects = [b for b in bodies if b["action"] == "client_disconnected"]
    assert sorted(d["clientid"] for d in disconnects) == ["pub1", "pub2", "pub3"]
    assert all(list(d) == ["reason", "username", "clientid", "action"] for d in disconnects)


def test_broker_logs_through_mosquitto(tmp_path, receiver):
    broker = Broker(tmp_path, webhook_conf(receiver, '    { event = on_message_publish }\n    { event = on_client_connack }'))
    broker.stop()
    log = broker.log()
    version = re.search(r'#define SWIFTWEBHOOK_VERSION "([^"]+)"',
                        open(os.path.join(ROOT, "include", "swiftwebhook.h")).read()).group(1)
    assert "webhook: libswiftwebhook %s loaded" % version in log
    assert "Mosquitto 2.0 has no plugin event for on_client_connack; rule ignored" in log


def test_bad_config_stops_the_broker_with_a_located_error(tmp_path, receiver):
    with pytest.raises(AssertionError):
        Broker(tmp_path, 'webhook {\n  url = "http://127.0.0.1:1/"\n  body.encoding = base63\n}\n')
    assert "webhook.conf:3:19: webhook.body.encoding: expected plain, base64 or base62, got \"base63\"" in \
        (tmp_path / "broker.log").read_text()


AUTH_RULES = '    { event = on_client_connect }\n    { event = on_message_publish }'


def test_connect_events_need_the_opt_in_and_never_change_who_may_connect(tmp_path, receiver):
    passwords = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "alice", "secret"], check=True)
    broker = Broker(tmp_path, webhook_conf(receiver, AUTH_RULES),
                    extra="allow_anonymous false\npassword_file %s" % passwords,
                    plugin_options="plugin_opt_observe_auth true")
    try:
        allowed = broker.pub("-i", "good", "-u", "alice", "-P", "secret", "-t", "a", "-m", "1", check=False)
        denied = broker.pub("-i", "bad", "-u", "alice", "-P", "wrong", "-t", "a", "-m", "2", check=False)
        anonymous = broker.pub("-i", "anon", "-t", "a", "-m", "3", check=False)
        assert wait_until(lambda: len([b for b in receiver.bodies() if b["action"] == "client_connect"]) == 3)
    finally:
        broker.stop()
    assert allowed.returncode == 0, "a valid login must still be accepted"
    assert denied.returncode != 0, "a wrong password must still be refused"
    assert anonymous.returncode != 0, "allow_anonymous false must still hold"
    bodies = receiver.bodies()
    connects = [b for b in bodies if b["action"] == "client_connect"]
    assert sorted(c["clientid"] for c in connects) == ["anon", "bad", "good"]
    good = next(c for c in connects if c["clientid"] == "good")
    assert list(good) == ["action", "clientid", "username", "ipaddress", "keepalive", "proto_ver"]
    assert good["ipaddress"] == "127.0.0.1" and good["username"] == "alice" and good["keepalive"] == 60
    assert "secret" not in json.dumps(bodies) and "wrong" not in json.dumps(bodies)
    assert [b["payload"] for b in bodies if b["action"] == "message_publish"] == ["1"]


def test_without_the_opt_in_auth_is_untouched(tmp_path, receiver):
    # No password_file and allow_anonymous true: a plugin that deferred here
    # would turn every login with a username into a refusal.
    broker = Broker(tmp_path, webhook_conf(receiver, AUTH_RULES), extra="allow_anonymous true")
    try:
        result = broker.pub("-i", "c1", "-u", "anyone", "-P", "x", "-t", "a", "-m", "1", check=False)
        assert wait_until(lambda: len(receiver.requests()) >= 1)
    finally:
        broker.stop()
    assert result.returncode == 0
    assert "on_client_connect needs plugin_opt_observe_auth true" in broker.log()
    assert [b["action"] for b in receiver.bodies()] == ["message_publish"]


def test_subscribe_and_delivery_events_follow_the_acl_file(tmp_path, receiver):
    acl = tmp_path / "acl"
    acl.write_text("topic readwrite open/#\ntopic write closed/#\n")
    rules = ('    { event = on_client_subscribe }\n    { event = on_client_unsubscribe }\n'
             '    { event = on_message_delivered, topic = "open/#" }')
    broker = Broker(tmp_path, webhook_conf(receiver, rules), extra="allow_anonymous true\nacl_file %s" % acl,
                    plugin_options="plugin_opt_observe_acl true")
    try:
        allowed = broker.sub("-i", "sub-open", "-t", "open/news", "-q", "1", "-C", "1", "-W", "10")
        denied = broker.sub("-i", "sub-closed", "-t", "closed/news", "-C", "1", "-W", "3")
        # Both subscriptions are in (Mosquitto logs them) before anything is published.
        assert wait_until(lambda: "Received SUBSCRIBE from sub-open" in broker.log()
                          and "Received SUBSCRIBE from sub-closed" in broker.log())
        broker.pub("-i", "pub", "-t", "open/news", "-q", "1", "-m", "for everyone")
        broker.pub("-i", "pub", "-t", "closed/news", "-m", "for nobody")
        allowed_out, _ = allowed.communicate(timeout=15)
        denied_out, _ = denied.communicate(timeout=15)
        assert wait_until(lambda: any(b["action"] == "message_delivered" for b in receiver.bodies()))
    finally:
        broker.stop()
    assert allowed_out.decode().strip() == "for everyone", "an allowed subscription still receives"
    assert denied_out.decode().strip() == "", "a subscription the acl_file denies still gets nothing"
    bodies = receiver.bodies()
    subscribes = {b["clientid"]: b for b in bodies if b["action"] == "client_subscribe"}
    assert set(subscribes) == {"sub-open", "sub-closed"}
    assert subscribes["sub-open"]["topic"] == "open/news" and subscribes["sub-open"]["opts"]["qos"] == 1
    delivered = [b for b in bodies if b["action"] == "message_delivered"]
    assert [(d["clientid"], d["topic"], d["payload"]) for d in delivered] == [("sub-open", "open/news", "for everyone")]


def test_a_burst_of_20000_publishes_all_arrive(tmp_path, receiver):
    broker = Broker(tmp_path, webhook_conf(receiver, '    { event = on_message_publish, topic = "burst/#" }',
                                           extra="  pool_size = 8\n  drain_timeout = 60s"))
    lines = "".join("m%d\n" % i for i in range(20000)).encode()
    try:
        broker.pub("-i", "burster", "-t", "burst/x", "-l", stdin=lines)
        assert wait_until(lambda: len(receiver.requests()) >= 20000, timeout=120)
    finally:
        broker.stop()
    payloads = [b["payload"] for b in receiver.bodies()]
    assert len(payloads) == 20000
    assert payloads == ["m%d" % i for i in range(20000)], "one client: per-client order is kept"


def test_broker_keeps_serving_while_the_endpoint_is_down(tmp_path, receiver):
    port = receiver.port
    receiver.stop()
    conf = webhook_conf(receiver, PUBLISH_AND_DISCONNECT,
                        extra="  retry { max_attempts = 1000, initial_backoff = 50ms, max_backoff = 200ms }")
    broker = Broker(tmp_path, conf)
    try:
        sub = broker.sub("-i", "watcher", "-t", "demo/#", "-C", "50", "-W", "20")
        assert wait_until(lambda: "Received SUBSCRIBE from watcher" in broker.log())
        start = time.time()
        for i in range(50):
            broker.pub("-i", "p", "-t", "demo/x", "-m", "down-%d" % i)
        out, _ = sub.communicate(timeout=30)
        assert len(out.decode().split()) == 50, "MQTT traffic flows while the webhook endpoint is down"
        assert time.time() - start < 20
        back = Receiver(port)
        try:
            assert wait_until(lambda: len([b for b in back.bodies() if b["action"] == "message_publish"]) == 50, 30)
            payloads = sorted(b["payload"] for b in back.bodies() if b["action"] == "message_publish")
            assert payloads == sorted("down-%d" % i for i in range(50))
        finally:
            broker.stop()
            back.stop()
    finally:
        if broker.process.poll() is None:
            broker.stop()


def sys_topics(broker, count):
    """The retained $SYS/broker/webhook/ topics, read by a real subscriber."""
    out = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", "$SYS/broker/webhook/#",
                          "-v", "-C", str(count), "-W", "10"], capture_output=True, timeout=30).stdout.decode()
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


SYS_TOPICS = 21  # publish_counters in swiftwebhook_plugin.c


def test_the_counters_are_published_under_sys_every_sys_interval(tmp_path, receiver):
    broker = Broker(tmp_path, webhook_conf(receiver, '    { event = on_message_publish, topic = "sys/#" }'),
                    plugin_options="plugin_opt_sys_interval 1")
    try:
        for i in range(30):
            broker.pub("-i", "p", "-t", "sys/x", "-m", "m%d" % i)
        assert wait_until(lambda: len(receiver.requests()) == 30, timeout=30)
        # A second sys_interval later, the retained values are the quiet ones.
        assert wait_until(lambda: sys_topics(broker, SYS_TOPICS).get("$SYS/broker/webhook/delivered") == "30", timeout=20)
        topics = sys_topics(broker, SYS_TOPICS)
        assert len(topics) == SYS_TOPICS, topics
        assert topics["$SYS/broker/webhook/matched"] == "30"
        assert topics["$SYS/broker/webhook/failed"] == "0" and topics["$SYS/broker/webhook/dropped"] == "0"
        assert topics["$SYS/broker/webhook/queued"] == "0" and topics["$SYS/broker/webhook/in_flight"] == "0"
        assert int(topics["$SYS/broker/webhook/connections/opened"]) >= 1
        assert topics["$SYS/broker/webhook/endpoint/state"] == "up"

        # The endpoint goes away: the state follows at the next interval.
        receiver.stop()
        for i in range(5):
            broker.pub("-i", "p", "-t", "sys/x", "-m", "late%d" % i)
        assert wait_until(lambda: sys_topics(broker, SYS_TOPICS).get("$SYS/broker/webhook/endpoint/state") == "down", timeout=30)
        assert int(sys_topics(broker, SYS_TOPICS)["$SYS/broker/webhook/matched"]) == 35
    finally:
        broker.stop()
    assert re.search(r"webhook: http://127\.0\.0\.1:\d+/hook: down: 3 attempts in a row failed", broker.log()), \
        "the library's one line when the endpoint goes down reaches Mosquitto's log"


def test_two_endpoints_one_down_each_state_under_sys_and_the_other_delivers(tmp_path, receiver):
    dead_port = free_port()  # nothing listens: every connect is refused
    conf = ('webhook {\n  endpoints {\n    live { url = "http://127.0.0.1:%d/hook" }\n'
            '    dead { url = "http://127.0.0.1:%d/hook", retry { initial_backoff = 20ms, max_backoff = 50ms } }\n  }\n'
            '  events = [ { event = on_message_publish, topic = "two/#" } ]\n}\n' % (receiver.port, dead_port))
    broker = Broker(tmp_path, conf, plugin_options="plugin_opt_sys_interval 1")
    try:
        for i in range(20):
            broker.pub("-i", "p", "-t", "two/x", "-m", "m%d" % i)
        assert wait_until(lambda: len(receiver.requests()) == 20, timeout=30)
        count = SYS_TOPICS + 2  # and endpoint/<name>/state for each
        assert wait_until(lambda: sys_topics(broker, count).get("$SYS/broker/webhook/endpoint/dead/state") == "down", timeout=30)
        topics = sys_topics(broker, count)
        assert topics["$SYS/broker/webhook/endpoint/live/state"] == "up"
        assert topics["$SYS/broker/webhook/endpoint/state"] == "down", "the worst endpoint's"
        # Counted per endpoint and added up: 20 matched by each.
        assert topics["$SYS/broker/webhook/matched"] == "40" and topics["$SYS/broker/webhook/delivered"] == "20"
    finally:
        broker.stop()
    assert re.search(r"delivering 1 rule\(s\) to live: http://127\.0\.0\.1:\d+/hook .*; dead: ", broker.log()), broker.log()


def test_sys_topics_can_be_turned_off_and_a_bad_interval_is_refused(tmp_path, receiver):
    broker = Broker(tmp_path, webhook_conf(receiver, '    { event = on_message_publish }'), plugin_options="plugin_opt_sys_interval 0")
    try:
        broker.pub("-t", "x", "-m", "1")
        assert wait_until(lambda: len(receiver.requests()) == 1)
        out = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", "$SYS/broker/webhook/#",
                              "-C", "1", "-W", "3"], capture_output=True, timeout=30).stdout
        assert out == b"", "no $SYS/broker/webhook topics with plugin_opt_sys_interval 0"
    finally:
        broker.stop()
    with pytest.raises(AssertionError):
        Broker(tmp_path, webhook_conf(receiver, '    { event = on_message_publish }'), plugin_options="plugin_opt_sys_interval soon")
    assert 'plugin_opt_sys_interval must be 0 to 86400 seconds, got "soon"' in (tmp_path / "broker.log").read_text()


def test_sighup_reloads_the_webhook_config_and_a_bad_one_is_refused(tmp_path, receiver):
    second = Receiver()
    broker = Broker(tmp_path, webhook_conf(receiver, '    { event = on_message_publish, topic = "r/#" }'))
    try:
        broker.pub("-i", "p", "-t", "r/x", "-m", "before")
        assert wait_until(lambda: len(receiver.requests()) == 1)
        broker.config.write_text(webhook_conf(second, '    { event = on_message_publish, topic = "r/#" }',
                                              extra='  headers.x-reloaded = "yes"'))
        broker.process.send_signal(signal.SIGHUP)
        assert wait_until(lambda: "webhook: config reloaded from %s" % broker.config in broker.log(), 20), broker.log()[-2000:]
        assert re.search(r"webhook: reloaded .*webhook\.conf: url, headers", broker.log())
        broker.pub("-i", "p", "-t", "r/x", "-m", "after")
        assert wait_until(lambda: len(second.requests()) == 1)
        assert second.bodies()[0]["payload"] == "after" and dict(second.requests()[0]["headers"])["x-reloaded"] == "yes"

        broker.config.write_text(webhook_conf(receiver, '    { event = on_message_publish, topic = "r/#" }',
                                              extra="  retry { max_attempts = many }"))
        broker.process.send_signal(signal.SIGHUP)
        assert wait_until(lambda: "webhook: config not reloaded, the running one stays" in broker.log(), 20)
        assert re.search(r"webhook\.conf:\d+:\d+: webhook\.retry\.max_attempts: ", broker.log())
        broker.pub("-i", "p", "-t", "r/x", "-m", "still")
        assert wait_until(lambda: len(second.requests()) == 2), "the running config stays"
        assert len(receiver.requests()) == 1
    finally:
        broker.stop()
        second.stop()


def test_the_stop_line_counts_what_the_spool_dropped(tmp_path, receiver):
    # The endpoint is down and the spool holds 64 KB: of 40 publishes of
    # 8 KB, most are dropped by the spool (dropped_spool), none by the
    # memory queue (its overflow goes to the spool). The stop line's
    # "dropped" counts them.
    receiver.stop()
    conf = webhook_conf(receiver, PUBLISH_AND_DISCONNECT, extra=(
        '  queue { max_events = 2 }\n  drain_timeout = 200ms\n'
        '  spool { dir = "%s", max_bytes = 64KB, durability = crash }' % (tmp_path / "spool")))
    broker = Broker(tmp_path, conf)
    try:
        for i in range(40):
            broker.pub("-i", "big", "-q", "1", "-t", "demo/big", "-m", ("%02d" % i) * 4096)
    finally:
        broker.stop()
    line = re.search(r"webhook: matched (\d+), delivered (\d+), failed (\d+), retried \d+, dropped (\d+)", broker.log())
    assert line, broker.log()[-2000:]
    matched, delivered, dropped = int(line.group(1)), int(line.group(2)), int(line.group(4))
    assert matched >= 40 and delivered == 0
    assert 0 < dropped < matched, "the spool's drops are in the stop line"


# Issue 14: ids, Standard Webhooks signatures and batches, through the real broker.
SECRET_NEW = "whsec_" + base64.b64encode(b"the new secret, 32 bytes long!!!").decode()
SECRET_OLD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def headers_of(request):
    return {k: v for k, v in request["headers"]}


def test_signed_requests_verify_with_the_standardwebhooks_package(tmp_path, receiver):
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
    receiver.behave(script=[{"status": 503}])  # the first request is retried
    broker = Broker(tmp_path, webhook_conf(
        receiver, '    { event = on_message_publish, topic = "signed/#" }',
        extra='  signing { secret = ["%s", "%s"] }\n  retry { initial_backoff = 10ms }' % (SECRET_NEW, SECRET_OLD)))
    try:
        for i in range(5):
            broker.pub("-i", "signer", "-t", "signed/t", "-m", "m%d" % i)
        assert wait_until(lambda: len(receiver.requests()) >= 6)
    finally:
        broker.stop()
    requests = receiver.requests()
    assert len(requests) == 6, "five events, the first sent twice"
    ids = [headers_of(r)["webhook-id"] for r in requests]
    assert ids[0] == ids[1], "a retry keeps the event's id"
    assert len(set(ids)) == 5, "every event has its own id"
    for request in requests:
        body = base64.b64decode(request["body"])
        headers = headers_of(request)
        assert len(headers["webhook-signature"].split(" ")) == 2, "one signature per secret"
        # Each secret alone verifies: a receiver still on the old one, or already on the new one.
        for secret in (SECRET_NEW, SECRET_OLD):
            assert Webhook(secret).verify(body, headers)["action"] == "message_publish"
        with pytest.raises(WebhookVerificationError):
            Webhook(SECRET_NEW).verify(body.replace(b'"m', b'"x'), headers)  # tampered body
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + base64.b64encode(b"somebody else's key").decode()).verify(body, headers)
        stale = dict(headers, **{"webhook-timestamp": str(int(headers["webhook-timestamp"]) - 3600)})
        with pytest.raises(WebhookVerificationError):
            Webhook(SECRET_NEW).verify(body, stale)  # a replayed, hour-old request
        assert abs(int(headers["webhook-timestamp"]) - time.time()) < 600


def test_one_client_with_signed_batches_arrives_complete_and_in_order(tmp_path, receiver):
    broker = Broker(tmp_path, webhook_conf(
        receiver, '    { event = on_message_publish, topic = "batch/#" }',
        extra="  pool_size = 4\n  ordering = per_client\n  drain_timeout = 60s\n"
              "  batch { max_events = 100, max_delay = 5ms }\n  signing { secret = \"%s\" }" % SECRET_NEW))
    lines = "".join("m%d\n" % i for i in range(20000)).encode()
    try:
        broker.pub("-i", "batcher", "-t", "batch/x", "-l", stdin=lines)
        assert wait_until(lambda: sum(len(b) for b in receiver.bodies()) >= 20000, timeout=120)
    finally:
        broker.stop()
    requests = receiver.requests()
    batches = [json.loads(base64.b64decode(r["body"])) for r in requests]
    assert all(isinstance(b, list) and 1 <= len(b) <= 100 for b in batches)
    assert len(batches) < 20000 / 5, "events travel in batches"
    events = [e for b in batches for e in b]
    assert [e["payload"] for e in events] == ["m%d" % i for i in range(20000)], "all, once, in order"
    assert len({e["id"] for e in events}) == 20000, "each element carries its own id"
    from standardwebhooks.webhooks import Webhook
    for request, batch in zip(requests, batches):
        assert headers_of(request)["webhook-id"] == "%s+%d" % (batch[0]["id"], len(batch))
        # The batch body is what is signed: the reference verifier accepts it.
        assert Webhook(SECRET_NEW).verify(base64.b64decode(request["body"]), headers_of(request)) == batch
        assert list(batch[0])[:2] == ["id", "ts"], "the event's usual body, its id first"
