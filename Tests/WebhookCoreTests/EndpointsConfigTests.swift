import Testing
@testable import WebhookCore

/// `endpoints { name { ... } }` (issue 23): each endpoint resolved from the
/// section's keys with its own over them; rules naming endpoints as bits.
@Suite struct EndpointsConfigTests {
    static let config = """
        webhook {
          headers { x-tenant = "t1" }
          pool_size = 4
          retry { initial_backoff = 50ms }
          endpoints {
            local { url = "http://127.0.0.1:8080/hook" }
            cloud { url = "https://a.example/hook", backup_url = "https://b.example/hook", pool_size = 2,
                    headers { x-cloud = "1" }, rate_limit { events_per_second = 200 }, compression = gzip,
                    batch { max_events = 100 }, tls { verify_peer = false } }
          }
          spool { dir = "/var/lib/spool" }
          drain_timeout = 2s
          events = [ { event = "on_message_publish", topic = "plant/#", endpoints = ["local", "cloud"] },
                     { event = "on_message_publish", topic = "cloud/#", endpoints = cloud },
                     { event = "on_client_connected" } ]
        }
        """

    @Test func eachEndpointIsTheSectionWithItsOwnKeysOverIt() throws {
        let s = try ConfigLoader(environment: Environment([:])).settings(text: Self.config)
        #expect(s.hasNamedEndpoints && s.deliveryEndpoints.map(\.endpointName) == ["local", "cloud"])
        let local = s.endpoints[0], cloud = s.endpoints[1]
        #expect(local.poolSize == 4 && cloud.poolSize == 2)
        #expect(local.retry.initialBackoffMs == 50 && cloud.retry.initialBackoffMs == 50)
        // A block the endpoint sets replaces the section's whole.
        #expect(local.headers.map(\.name) == ["content-type", "x-tenant"])
        #expect(cloud.headers.map(\.name) == ["content-type", "x-cloud"])
        #expect(local.compression == .none && cloud.compression == .gzip)
        #expect(local.batch.maxEvents == 1 && cloud.batch.maxEvents == 100)
        #expect(cloud.rateLimit.eventsPerSecond == 200 && !local.rateLimit.isOn)
        #expect(local.backupURL == nil && cloud.backupURL?.description == "https://b.example:443/hook")
        #expect(cloud.backupTLS?.serverName == "b.example" && cloud.tls?.serverName == "a.example")
        #expect(cloud.backupTLS?.verifyPeer == false)
        // The section's own keys, and each endpoint's part of the spool.
        #expect(s.spool?.directory == "/var/lib/spool")
        #expect(local.spool?.directory == "/var/lib/spool/local" && cloud.spool?.directory == "/var/lib/spool/cloud")
        #expect(local.drainTimeoutMs == 2000 && s.drainTimeoutMs == 2000)
        #expect(s.rules.rules.map(\.endpoints) == [0b11, 0b10, 0b11], "a rule that names none goes to all")
    }

    @Test func rulesRouteEachEventToTheEndpointsThatWantIt() throws {
        let s = try ConfigLoader(environment: Environment([:])).settings(text: Self.config)
        #expect(s.rules.endpoints(.messagePublish, topic: Array("plant/a".utf8)) == 0b11)
        #expect(s.rules.endpoints(.messagePublish, topic: Array("cloud/x".utf8)) == 0b10)
        #expect(s.rules.endpoints(.messagePublish, topic: Array("other".utf8)) == 0)
        #expect(s.rules.endpoints(.clientConnected, topic: [UInt8]()) == 0b11)
        #expect(s.rules.endpoints(.clientDisconnected, topic: [UInt8]()) == 0)
        // Two rules for one endpoint still send it once.
        let table = RuleTable([Rule(kind: .messagePublish, topic: try TopicFilter.parse("a/#").get(), endpoints: 0b01),
                               Rule(kind: .messagePublish, topic: try TopicFilter.parse("a/+").get(), endpoints: 0b11)])
        #expect(table.endpoints(.messagePublish, topic: Array("a/b".utf8)) == 0b11)
        #expect(table.endpoints(.messagePublish, topic: Array("a/b/c".utf8)) == 0b01)
    }

    @Test func theSingleURLConfigIsOneEndpointNamedDefault() throws {
        let s = try ConfigLoader(environment: Environment([:])).settings(text: """
            webhook { url = "http://h/", backup_url = "http://g:8080/", events = [ { event = on_message_publish } ] }
            """)
        #expect(!s.hasNamedEndpoints && s.deliveryEndpoints.count == 1 && s.endpointName == "default")
        #expect(s.backupURL?.description == "http://g:8080/" && s.backupTLS == nil)
        #expect(s.rules.rules[0].endpoints == 1)
    }

    @Test func aDisabledSectionWithEndpointsIsStillCheckedAsWarnings() throws {
        let s = try ConfigLoader(environment: Environment([:])).settings(text: """
            webhook { enable = false, endpoints { a { url = "http://h/" } }, events = [ { event = on_message_publish, endpoints = [b] } ] }
            """)
        #expect(!s.enabled && s.warnings.contains { $0.contains("unknown endpoint \"b\"") && $0.contains("not an error while enable = false") }, "\(s.warnings)")
    }

    @Test func anHTTPSBackupOfAnHTTPURLUsesTheTLSBlock() throws {
        let s = try ConfigLoader(environment: Environment([:])).settings(text: """
            webhook { url = "http://h/", backup_url = "https://g/", tls { verify_peer = false, enable = true } }
            """)
        #expect(s.tls == nil && s.backupTLS?.serverName == "g" && s.backupTLS?.verifyPeer == false)
    }
}
