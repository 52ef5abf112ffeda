import Testing
@testable import WebhookCore

@Suite struct HOCONParserTests {
    @Test func separatorsAndObjectsWithoutEquals() throws {
        let root = try tree("""
            a = 1
            b : two
            c { d = 3 }
            e = { f = 4 }
            """)
        #expect(scalar(root, "a") == "1")
        #expect(scalar(root, "b") == "two")
        #expect(scalar(root, "c.d") == "3")
        #expect(scalar(root, "e.f") == "4")
    }

    @Test func dottedKeysExpandAndQuotedSegmentsKeepDots() throws {
        let root = try tree("""
            headers.content-type = "application/json"
            headers."x.api.key" = v
            """)
        guard case .object(let headers)? = root["headers"]?.value else { Issue.record("no headers"); return }
        #expect(headers.keys == ["content-type", "x.api.key"])
        #expect(scalar(headers, "content-type") == "application/json")
    }

    @Test func repeatedObjectsMergeAndLaterScalarWins() throws {
        let root = try tree("""
            webhook { url = "a", pool_size = 1 }
            webhook { pool_size = 2 }
            webhook.pool_size = 3
            x = 1
            x = { y = 2 }
            """)
        #expect(scalar(root, "webhook.url") == "a")
        #expect(scalar(root, "webhook.pool_size") == "3")
        #expect(scalar(root, "x.y") == "2")
    }

    @Test func arraysWithCommasNewlinesAndTrailingCommas() throws {
        let root = try tree("""
            a = [1, 2, 3,]
            b = [
              1
              2,
              3
            ]
            c = [ { x = 1 }, { x = 2 }, ]
            d = []
            """)
        for key in ["a", "b"] {
            guard case .array(let items)? = root[key]?.value else { Issue.record("\(key) not array"); continue }
            #expect(items.count == 3)
        }
        guard case .array(let objects)? = root["c"]?.value else { Issue.record("c"); return }
        #expect(objects.count == 2)
        guard case .array(let empty)? = root["d"]?.value else { Issue.record("d"); return }
        #expect(empty.isEmpty)
    }

    @Test func commentsAreIgnoredButNotInsideStrings() throws {
        let root = try tree("""
            # a comment
            // another
            a = "x # not a comment // nor this"  # trailing
            b = plain // trailing
            c = http://host:80/x
            """)
        #expect(scalar(root, "a") == "x # not a comment // nor this")
        #expect(scalar(root, "b") == "plain")
        // Unquoted `//` starts a comment, as in HOCON: URLs must be quoted.
        #expect(scalar(root, "c") == "http:")
    }

    @Test func stringFormsAndEscapes() throws {
        let root = try tree(#"""
            a = "tab\there \"q\" \\ \/ \u00e9 \ud83d\ude00"
            b = """raw "quotes" \n no escapes"""
            c = 0.0.0.0:1883
            d = null
            e = "null"
            f = "a" "b"
            g = "  keep spaces  "
            """#)
        #expect(scalar(root, "a") == "tab\there \"q\" \\ / é 😀")
        #expect(scalar(root, "b") == #"raw "quotes" \n no escapes"#)
        #expect(scalar(root, "c") == "0.0.0.0:1883")
        if case .null? = root["d"]?.value {} else { Issue.record("d should be null") }
        #expect(scalar(root, "e") == "null")
        #expect(scalar(root, "f") == "a b")
        #expect(scalar(root, "g") == "  keep spaces  ")
    }

    @Test func multiLineTripleQuotedStringCountsLines() throws {
        let error = configError("""
            x = \"\"\"line one
            line two\"\"\"
            webhook { url = 5 }
            """)
        #expect(error == "nanomq.conf:3:17: webhook.url: expected http://host[:port][/path] or https://... (got \"5\")")
    }

    @Test func substitutionFromEnvironment() throws {
        let root = try tree("""
            a = ${HOST}
            b = "Bearer ${TOKEN}"
            c = ${?MISSING}
            d = ${HOST}":"${PORT}/path
            e = ${?MISSING} ${?ALSO_MISSING}
            """, env: ["HOST": "example.com", "TOKEN": "s3cr3t", "PORT": "8080"])
        #expect(scalar(root, "a") == "example.com")
        #expect(scalar(root, "b") == "Bearer s3cr3t")
        #expect(root["c"] == nil, "unset optional substitution leaves the key out")
        #expect(scalar(root, "d") == "example.com:8080/path")
        #expect(root["e"] == nil)
    }

    @Test func wholeDocumentInBraces() throws {
        let root = try tree("{ webhook { url = \"http://h/\" } }")
        #expect(scalar(root, "webhook.url") == "http://h/")
    }

    @Test func completeNanoMQConfigWithIncludes() throws {
        let loaded = try ConfigLoader(environment: Environment(["WEBHOOK_TOKEN": "tok"])).load(path: fixtures + "/nanomq.conf")
        #expect(loaded.syntax == .hocon)
        #expect(loaded.root.keys == ["system", "mqtt", "listeners", "http_server", "log", "auth", "bridges", "sqlite", "webhook"])
        #expect(scalar(loaded.root, "mqtt.keepalive_multiplier") == "1.25")
        #expect(scalar(loaded.root, "listeners.ws.bind") == "0.0.0.0:8083/mqtt")
        #expect(scalar(loaded.root, "auth.password.admin") == "public", "include inside an object")
        guard case .object(let acl)? = loaded.root["auth"].flatMap({ node -> ConfigNode? in
            if case .object(let auth) = node.value { return auth["acl"] } else { return nil }
        })?.value, case .array(let rules)? = acl["rules"]?.value else {
            Issue.record("acl rules not read")
            return
        }
        #expect(rules.count == 4)
        guard case .object(let bridge)? = loaded.root["bridges"].flatMap({ node -> ConfigNode? in
            if case .object(let b) = node.value, case .object(let m)? = b["mqtt"]?.value { return m["emqx1"] } else { return nil }
        })?.value, case .array(let subs)? = bridge["subscription"]?.value else {
            Issue.record("bridge not read")
            return
        }
        #expect(subs.count == 2)
    }
}

