import Foundation
import Testing
@testable import WebhookCore

/// Every bad config is an error naming file, line, column and key: never a
/// crash, a hang, or a leaked secret.
@Suite struct ConfigErrorTests {
    @Test func theSpecExample() {
        #expect(configError("""
            webhook {
              url = "http://127.0.0.1:80"
              body.encoding = "base63"
            }
            """) == #"nanomq.conf:3:19: webhook.body.encoding: expected plain, base64 or base62, got "base63""#)
    }

    @Test(arguments: [
        // Syntax.
        ("webhook { url = \"http://h/\n}", "nanomq.conf:1:17: unterminated string: no closing '\"' on this line"),
        ("webhook {\n  url = \"http://h/\"\n", "nanomq.conf:3:1: unterminated object: '{' opened at 1:9 is never closed"),
        ("webhook { events = [ { event = on_client_connack }\n", "nanomq.conf:2:1: webhook.events: unterminated array: '[' opened at 1:20 is never closed"),
        ("webhook { url = \"\"\"never closed }", "nanomq.conf:1:17: unterminated triple-quoted string"),
        ("webhook }", "nanomq.conf:1:9: webhook: expected '=', ':' or '{' after the key, got '}'"),
        ("webhook { url = \"http://h/\" } }", "nanomq.conf:1:31: unexpected '}'"),
        ("a = \"bad \\q escape\"", "nanomq.conf:1:10: invalid escape '\\q' in a string"),
        ("a = \"\\u12\"", "nanomq.conf:1:6: expected 4 hex digits after \\u"),
        ("a = ${NOPE}", "nanomq.conf:1:5: a: environment variable NOPE is not set (write ${?NOPE} to make it optional)"),
        ("a = ${OPEN", "nanomq.conf:1:5: a: unterminated substitution: '${' has no closing '}'"),
        ("a = \n", "nanomq.conf:1:5: a: expected a value"),
        ("a = 1 2 }", "nanomq.conf:1:9: unexpected '}'"),
        ("a = [1 2] }", "nanomq.conf:1:11: unexpected '}'"),
        ("a += [1]", "nanomq.conf:1:3: a: '+=' is not supported; write the whole array"),
        ("include nothing", "nanomq.conf:1:1: include: expected a quoted file name after include, got 'nothing'"),
        // Values.
        ("webhook { }", "nanomq.conf:1:9: webhook.url: url is required"),
        ("webhook { url = \"ftp://h/\" }", "nanomq.conf:1:17: webhook.url: scheme must be http or https, got \"ftp\" (got \"ftp://h/\")"),
        ("webhook { url = \"http://h:99999/\" }", "nanomq.conf:1:17: webhook.url: port must be 1-65535, got \"99999\" (got \"http://h:99999/\")"),
        ("webhook { url = \"http:///x\" }", "nanomq.conf:1:17: webhook.url: URL has no host (got \"http:///x\")"),
        ("webhook { url = \"http://*/\" }", "nanomq.conf:1:17: webhook.url: host \"*\" is not a host name or IP address (got \"http://*/\")"),
        ("webhook { url = \"http://u:p@h/\" }", "nanomq.conf:1:17: webhook.url: user:password@ in the URL is not supported; set headers.authorization instead (got \"http://***@h/\")"),
        ("webhook { url = \"http://h/\", pool_size = 0 }", "nanomq.conf:1:42: webhook.pool_size: expected a whole number from 1 to 1024, got \"0\""),
        ("webhook { url = \"http://h/\", pool_size = 3x }", "nanomq.conf:1:42: webhook.pool_size: expected a whole number from 1 to 1024, got \"3x\""),
        ("webhook { url = \"http://h/\", delivery_nice = 20 }", "nanomq.conf:1:46: webhook.delivery_nice: expected a whole number from 0 to 19, got \"20\""),
        ("webhook { url = \"http://h/\", cancel_timeout = 5 years }", "nanomq.conf:1:47: webhook.cancel_timeout: expected a duration such as 5000, 500ms, 5s or 1m (from 1 to 3600000 ms), got \"5 years\""),
        ("webhook { url = \"http://h/\", enable = maybe }", "nanomq.conf:1:39: webhook.enable: expected true or false (or on/off, yes/no), got \"maybe\""),
        ("webhook { url = \"http://h/\", queue.overflow = drop_all }", "nanomq.conf:1:47: webhook.queue.overflow: expected drop_new or drop_old, got \"drop_all\""),
        ("webhook { url = \"http://h/\", queue.max_bytes = 10 }", "nanomq.conf:1:48: webhook.queue.max_bytes: expected a size from 1KB to 1TB such as 64MB, got \"10\""),
        ("webhook { url = \"http://h/\", ordering = random }", "nanomq.conf:1:41: webhook.ordering: expected per_client or none, got \"random\""),
        ("webhook { url = \"http://h/\", retry { initial_backoff = 2s, max_backoff = 1s } }", "nanomq.conf:1:74: webhook.retry.max_backoff: max_backoff (1000 ms) is below initial_backoff (2000 ms)"),
        ("webhook { url = \"http://h/\", url2 = x, events = [ { event = \"on_client_konnect\" } ] }", "nanomq.conf:1:61: webhook.events[0].event: unknown event \"on_client_konnect\"; expected one of on_client_connect, on_client_connack, on_client_connected, on_client_disconnected, on_client_subscribe, on_client_unsubscribe, on_session_subscribed, on_session_unsubscribed, on_session_terminated, on_message_publish, on_message_delivered, on_message_acked"),
        ("webhook { url = \"http://h/\", events = [ { topic = \"a\" } ] }", "nanomq.conf:1:41: webhook.events[0]: rule has no 'event'"),
        ("webhook { url = \"http://h/\", events = [ { event = on_message_publish, topic = \"a/#/b\" } ] }", "nanomq.conf:1:79: webhook.events[0].topic: '#' must be a whole level and the last one, got \"a/#/b\""),
        ("webhook { url = \"http://h/\", events = [ { event = on_message_publish, topic = \"a+\" } ] }", "nanomq.conf:1:79: webhook.events[0].topic: '+' must be a whole level, got \"a+\""),
        ("webhook { url = \"http://h/\", events = { event = x } }", "nanomq.conf:1:39: webhook.events: expected an array of { event = \"...\", topic = \"...\" }"),
        ("webhook { url = \"http://h/\", body.encoding = [plain] }", "nanomq.conf:1:46: webhook.body.encoding: expected a string, got an array"),
        ("webhook { url = \"http://h/\", headers { content-length = 5 } }", "nanomq.conf:1:57: webhook.headers.content-length: this header is set by the library and cannot be configured"),
        ("webhook { url = \"http://h/\", headers { \"bad name\" = 5 } }", "nanomq.conf:1:53: webhook.headers.bad name: invalid header name: use letters, digits and !#$%&'*+-.^_`|~"),
        ("webhook { url = \"http://h/\", tls { enable = true } }", "nanomq.conf:1:45: webhook.tls.enable: TLS is enabled but the url is http://; use an https:// url"),
        ("webhook { url = \"https://h/\", tls { cacertfile = \"/nonexistent/ca.pem\" } }", "nanomq.conf:1:50: webhook.tls.cacertfile: cannot read /nonexistent/ca.pem: No such file or directory"),
        ("webhook { url = \"https://h/\", ssl { certfile = \"/etc/hostname\", verify_peer = false } }", "nanomq.conf:1:48: webhook.ssl.certfile: certfile and keyfile go together: give both for a client certificate, or neither"),
        ("webhook { url = \"https://h/\", tls { verify_peer = false }, ssl { verify_peer = false } }", "nanomq.conf:1:64: webhook.ssl: both 'tls' and 'ssl' are set; they are the same block, keep one"),
        ("webhook { url = \"http://h/\", pipeline = 4 }", "nanomq.conf:1:41: webhook.pipeline: pipelining needs ordering = none (a refused request may be retried after a later one was taken, out of a client's order)"),
        ("webhook { url = \"http://h/\", ordering = none, pipeline = 4, batch { max_events = 10 } }", "nanomq.conf:1:58: webhook.pipeline: pipelining and batches do not mix: choose one (a batch already sends many events in one request)"),
        ("webhook { url = \"http://h/\", ordering = none, pipeline = 0 }", "nanomq.conf:1:58: webhook.pipeline: expected a whole number from 1 to 64, got \"0\""),
        ("webhook { url = \"http://h/\", compression = brotli }", "nanomq.conf:1:44: webhook.compression: expected none or gzip, got \"brotli\""),
        ("webhook { url = \"http://h/\", compression = gzip, headers { content-encoding = br } }", "nanomq.conf:1:79: webhook.headers.content-encoding: this header is set by the library while compression is on (remove it: the library says how it encoded the body)"),
        ("webhook { url = \"http://h/\", rate_limit { events_per_second = 0 } }", "nanomq.conf:1:63: webhook.rate_limit.events_per_second: expected a whole number from 1 to 10000000, got \"0\""),
        ("webhook { url = \"http://h/\", rate_limit { bytes_per_second = 0 } }", "nanomq.conf:1:62: webhook.rate_limit.bytes_per_second: expected a size up to 1GB such as 1MB, got \"0\""),
        ("webhook { url = \"http://h/\", batch { max_events = 100 }, rate_limit { events_per_second = 50 } }", "nanomq.conf:1:91: webhook.rate_limit.events_per_second: 100 events go out together (batch.max_events or pipeline) and could never go under this limit: make it at least that"),
        // Several endpoints (issue 23).
        ("webhook { endpoints { a { url = \"http://h/\" } }, events = [ { event = on_message_publish, endpoints = [a, c] } ] }", "nanomq.conf:1:107: webhook.events[0].endpoints: unknown endpoint \"c\"; the endpoints are a"),
        ("webhook { endpoints { a { url = \"http://h/\" }, a { url = \"http://g/\" } } }", "nanomq.conf:1:50: webhook.endpoints.a: endpoint a is defined twice (names are unique; the first is at nanomq.conf:1:25)"),
        ("webhook { url = \"http://h/\", endpoints { a { url = \"http://h/\" } } }", "nanomq.conf:1:17: webhook.url: url and endpoints are both set: give each endpoint its own url (endpoints { name { url = ... } })"),
        ("webhook { endpoints { a { url = \"http://h/\", events = [] } } }", "nanomq.conf:1:55: webhook.endpoints.a.events: events is the whole section's, not one endpoint's: set it under webhook"),
        ("webhook { url = \"http://h/\", backup_url = \"https://b/\" }", "nanomq.conf:1:43: webhook.backup_url: backup_url is https:// but the url is http:// and there is no tls { } block for it: add one (cacertfile, or verify_peer = false)"),
        ("webhook { url = \"http://h/\", backup_url = \"http://h/\" }", "nanomq.conf:1:43: webhook.backup_url: backup_url is the url itself: a backup is another place to send to"),
        ("webhook { endpoints { \"a b\" { url = \"http://h/\" } } }", "nanomq.conf:1:29: webhook.endpoints.a b: an endpoint's name is 1 to 64 letters, digits, '_' or '-' (got \"a b\")"),
        ("webhook { url = \"http://h/\", events = [ { event = on_message_publish, endpoints = [a] } ] }", "nanomq.conf:1:83: webhook.events[0].endpoints: this rule names endpoints, but the section has no endpoints { } block (its one endpoint is url)"),
        ("webhook { endpoints { a { pool_size = 2 } } }", "nanomq.conf:1:25: webhook.endpoints.a.url: url is required"),
        ("webhook { pool_size = 0, endpoints { a { url = \"http://h/\" } } }", "nanomq.conf:1:23: webhook.endpoints.a.pool_size: expected a whole number from 1 to 1024, got \"0\""),
        ("webhook { endpoints { } }", "nanomq.conf:1:21: webhook.endpoints: expected an object of named endpoints: endpoints { local { url = \"http://...\" } }"),
        ("webhook { endpoints { a { url = \"http://h/\", rate_limit { events_per_second = 0 } } } }", "nanomq.conf:1:79: webhook.endpoints.a.rate_limit.events_per_second: expected a whole number from 1 to 10000000, got \"0\""),
        ("webhook = 5", "nanomq.conf:1:11: webhook: expected an object { ... }"),
        ("mqtt { }", "nanomq.conf:1:1: no webhook section: expected 'webhook { ... }' or 'web.hook.*' keys"),
        // Legacy format.
        ("web.hook.url = http://h/\nweb.hook.rule.x.1 = {\"action\": \"on_nothing\"}", "nanomq.conf:2:21: web.hook.rule.event: unknown event \"on_nothing\"; expected one of on_client_connect, on_client_connack, on_client_connected, on_client_disconnected, on_client_subscribe, on_client_unsubscribe, on_session_subscribed, on_session_unsubscribed, on_session_terminated, on_message_publish, on_message_delivered, on_message_acked"),
        ("web.hook.url = http://h/\nweb.hook.rule.x.1 = {\"action\": \"on_client_connack\"", "nanomq.conf:2:51: web.hook.rule.x.1: unterminated object: '{' opened at 1:1 is never closed"),
        ("web.hook.url = http://h/\nweb.hook.rule.x.1 = [1]", "nanomq.conf:2:21: web.hook.rule.x.1: expected a JSON object like {\"action\": \"on_client_connack\"}"),
        ("web.hook.url = http://h/\njust some words", "nanomq.conf:2:1: expected 'key = value'"),
        ("web.hook.url = http://h/\nweb.hook.pool_size = many", "nanomq.conf:2:22: web.hook.pool_size: expected a whole number from 1 to 1024, got \"many\""),
    ])
    func badInput(_ config: String, _ expected: String) {
        #expect(configError(config) == expected)
    }

    @Test func aPasswordInTheURLIsRedactedFromTheError() {
        #expect(configError("webhook {\n  url = \"http://user:S3CRETPW@127.0.0.1/hook\"\n}") ==
            "nanomq.conf:2:9: webhook.url: user:password@ in the URL is not supported; set headers.authorization instead (got \"http://***@127.0.0.1/hook\")")
        #expect(EndpointURL.redactingUserInfo("https://a:b@c@host:1/p@q") == "https://***@host:1/p@q")
        #expect(EndpointURL.redactingUserInfo("http://host/p@q") == "http://host/p@q")
    }

    @Test func headerInjectionIsRejectedWithoutEchoingTheSecret() {
        let message = configError("webhook { url = \"http://h/\", headers.authorization = \"Bearer abc\\r\\nX-Evil: 1\" }")
        #expect(message == "nanomq.conf:1:54: webhook.headers.authorization: header value contains CR, LF, NUL or another control character (header injection)")
        #expect(message?.contains("abc") == false)
    }

    @Test func secretsNeverAppearInErrors() {
        let configs = [
            "webhook { url = \"http://h/\", headers.authorization = \"hunter2\\n\" }",
            "webhook { url = \"https://h/\", tls { key_password = [\"hunter2\"] } }",
            "webhook { url = \"https://h/\", headers { x-token = { a = \"hunter2\\r\" } } }",
            "webhook { url = \"http://user:hunter2@127.0.0.1/hook\" }",
            "webhook { url = \"https://hunter2@h:8443?x=1\" }",
            "web.hook.url = http://user:hunter2@127.0.0.1/hook\nweb.hook.rule.message.publish.1 = {\"action\": \"on_message_publish\"}",
        ]
        for config in configs {
            let message = configError(config)
            #expect(message != nil)
            #expect(message?.contains("hunter2") == false, "\(message ?? "")")
        }
    }

    @Test func missingIncludeAndIncludeCycle() throws {
        #expect(configError("include \"/nonexistent/x.conf\"\nwebhook { url = \"http://h/\" }")
                == "nanomq.conf:1:1: include: cannot read included file /nonexistent/x.conf: No such file or directory")
        do {
            _ = try ConfigLoader(environment: Environment([:])).load(path: fixtures + "/include_a.conf")
            Issue.record("a cycle must be an error")
        } catch {
            #expect(error.key == "include")
            #expect(error.message.hasPrefix("include cycle: "))
            #expect(error.location?.file.hasSuffix("include_b.conf") == true)
            #expect(error.location?.line == 2)
        }
    }

    @Test func missingFileNamesThePath() {
        do {
            _ = try ConfigLoader().settings(path: "/nonexistent/nanomq.conf")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)" == "cannot read config file /nonexistent/nanomq.conf: No such file or directory")
        }
    }

    @Test func aFifoIsRefusedAtOnceAsConfigOrInclude() throws {
        // open() on a FIFO used to wait for a writer, forever, before the
        // regular-file check. The load runs on its own thread so that a
        // regression fails the test instead of hanging the suite.
        let dir = "/tmp/swh-fifo-\(getpid())"
        mkdir(dir, 0o700)
        defer { unlink(dir + "/pipe"); unlink(dir + "/main.conf"); rmdir(dir) }
        #expect(mkfifo(dir + "/pipe", 0o600) == 0)
        let main = "include \"pipe\"\nwebhook { url = \"http://h/\" }\n"
        let fd = open(dir + "/main.conf", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = main.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        for path in [dir + "/pipe", dir + "/main.conf"] {
            let outcome = OneShot<String>()
            let thread = Thread {
                do {
                    _ = try ConfigLoader(environment: Environment([:])).settings(path: path)
                    outcome.set("loaded")
                } catch {
                    outcome.set("\(error)")
                }
            }
            thread.start()
            let message = outcome.wait(seconds: 60)
            #expect(message?.contains("not a regular file") == true, "\(path): \(message ?? "still blocked after 60 s")")
        }
    }

    @Test func deepNestingIsAnErrorNotAStackOverflow() {
        let deep = String(repeating: "a { ", count: 10_000) + String(repeating: "} ", count: 10_000)
        #expect(configError(deep)?.contains("nest deeper than 64 levels") == true)
        let arrays = "a = " + String(repeating: "[", count: 100_000)
        #expect(configError(arrays)?.contains("nest deeper than 64 levels") == true)
    }

    @Test func unknownKeysAreWarningsWithLocations() throws {
        let s = try settings("webhook {\n  url = \"http://h/\"\n  pool_sise = 3\n}")
        #expect(s.warnings == ["nanomq.conf:3:15: webhook.pool_sise: unknown key, ignored (did you mean pool_size?)"])
    }
}
