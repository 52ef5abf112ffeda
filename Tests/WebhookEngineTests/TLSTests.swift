import Foundation
import Testing
import TestKit
@testable import WebhookCore
@testable import WebhookEngine

/// Certificates made with openssl for each run: a CA, a server certificate
/// for "localhost", a client certificate, and an unrelated second CA.
final class TestPKI: @unchecked Sendable {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "swiftwebhook-pki-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Test CA")
        try openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.pem", "-days", "2", "-subj", "/CN=Other CA")
        try issue("server", subject: "/CN=localhost", extensions: "subjectAltName=DNS:localhost,IP:127.0.0.1")
        try issue("client", subject: "/CN=broker", extensions: "extendedKeyUsage=clientAuth")
        // A receiver reached by address: its certificate names only the address.
        try issue("ip-server", subject: "/CN=receiver", extensions: "subjectAltName=IP:127.0.0.1")
        // Names another address, and 127.0.0.1 only as a DNS name, which must not count.
        try issue("other-ip-server", subject: "/CN=127.0.0.1", extensions: "subjectAltName=IP:10.9.8.7,DNS:127.0.0.1")
        // The client key again, encrypted, for key_password. Traditional
        // PEM encryption: mbedtls 2.28 cannot read OpenSSL 3's default PKCS#8 PBES2.
        try openssl("rsa", "-in", "client.key", "-out", "client-encrypted.key", "-aes256", "-passout", "pass:s3cret", "-traditional")
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String) -> String { directory + "/" + name }

    private func issue(_ name: String, subject: String, extensions: String) throws {
        try openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject)
        try extensions.write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
        try openssl("x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext")
    }

    private func openssl(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("openssl \(arguments.joined(separator: " ")) failed") }
    }
}

/// Made once per test run: RSA key generation is the slow part.
let sharedPKI = Result { try TestPKI() }

@Suite(.serialized) struct TLSTests {
    let pki: TestPKI

    init() throws {
        pki = try sharedPKI.get()
    }

    func server(requireClientCert: Bool = false, certificate: String = "server") throws -> HookServer {
        var arguments = ["--cert", pki.path("\(certificate).pem"), "--key", pki.path("\(certificate).key")]
        if requireClientCert { arguments += ["--client-ca", pki.path("ca.pem")] }
        return try HookServer(tlsArguments: arguments)
    }

    func deliver(to server: HookServer, tls: String, count: Int = 3) throws -> (EngineStats, [String]) {
        let capture = LogCapture()
        let settings = try engineSettings(server.url + "/secure", """
            pool_size = 1
            cancel_timeout = 2s
            retry { max_attempts = 2, initial_backoff = 10ms, max_backoff = 10ms }
            tls { \(tls) }
            """)
        let engine = try Engine(settings: settings, log: capture.log)
        for i in 0..<count { _ = engine.submit(publish("c", "\(i)")) }
        _ = eventually(within: 15) { engine.stats().delivered + engine.stats().failed == UInt64(count) }
        engine.shutdown()
        return (engine.stats(), capture.messages)
    }

    @Test func deliversOverHTTPSWithTheRightCA() throws {
        let server = try server()
        let (stats, _) = try deliver(to: server, tls: "cacertfile = \"\(pki.path("ca.pem"))\", server_name = localhost")
        #expect(stats.delivered == 3 && stats.failed == 0)
        #expect(stats.connectionsOpened == 1, "TLS connections are kept alive too")
    }

    /// A reload re-reads the TLS files: a config whose CA could not verify
    /// the server is fixed by pointing `cacertfile` at the right one.
    @Test func aReloadReadsTheTLSFilesAgain() throws {
        let server = try server()
        func settings(ca: String) throws -> WebhookSettings {
            try engineSettings(server.url + "/secure", """
                pool_size = 1
                retry { max_attempts = 1 }
                tls { cacertfile = "\(pki.path(ca))", server_name = localhost }
                """)
        }
        let engine = try Engine(settings: try settings(ca: "other-ca.pem"), log: LogCapture().log)
        _ = engine.submit(publish("c", "refused"))
        #expect(eventually { engine.stats().failed == 1 })
        #expect(try engine.reload(try settings(ca: "ca.pem")) == "tls")
        _ = engine.submit(publish("c", "verified"))
        #expect(eventually { engine.stats().delivered == 1 }, "\(engine.stats())")
        engine.shutdown()
        #expect(engine.stats().failed == 1 && engine.stats().delivered == 1)
    }

    @Test func wrongCAFailsAndIsLoggedOnce() throws {
        let server = try server()
        let (stats, log) = try deliver(to: server, tls: "cacertfile = \"\(pki.path("other-ca.pem"))\", server_name = localhost", count: 5)
        #expect(stats.delivered == 0 && stats.failed == 5, "\(stats)")
        let failures = log.filter { $0.contains("failed") }
        #expect(!failures.isEmpty)
        #expect(log.filter { $0.contains("retrying") }.count == 1, "rate-limited: \(log)")
    }

    @Test func wrongServerNameFails() throws {
        let server = try server()
        let (stats, _) = try deliver(to: server, tls: "cacertfile = \"\(pki.path("ca.pem"))\", server_name = wrong.example.com")
        #expect(stats.delivered == 0 && stats.failed == 3)
    }

    @Test func verificationOffAcceptsAnyCertificate() throws {
        let server = try server()
        let (stats, _) = try deliver(to: server, tls: "verify_peer = false")
        #expect(stats.delivered == 3)
    }

    @Test func mutualTLSNeedsTheClientCertificate() throws {
        let server = try server(requireClientCert: true)
        let ca = "cacertfile = \"\(pki.path("ca.pem"))\", server_name = localhost"
        let (without, _) = try deliver(to: server, tls: ca)
        #expect(without.delivered == 0 && without.failed == 3)
        let (with, _) = try deliver(to: server, tls: ca + ", certfile = \"\(pki.path("client.pem"))\", keyfile = \"\(pki.path("client.key"))\"")
        #expect(with.delivered == 3)
        let (encrypted, _) = try deliver(to: server, tls: ca + ", certfile = \"\(pki.path("client.pem"))\", keyfile = \"\(pki.path("client-encrypted.key"))\", key_password = s3cret")
        #expect(encrypted.delivered == 3)
    }

    @Test func badKeyPasswordIsAStartError() throws {
        let settings = try engineSettings("https://127.0.0.1:1/x", """
            tls { cacertfile = "\(pki.path("ca.pem"))", certfile = "\(pki.path("client.pem"))", keyfile = "\(pki.path("client-encrypted.key"))", key_password = nope }
            """)
        #expect(throws: EngineError.self) { try Engine(settings: settings, log: LogCapture().log) }
    }

    /// Hostile round 3, row 6: an https:// URL to an IP address whose
    /// certificate names that address (iPAddress subjectAltName), no
    /// server_name. mbedtls 2.28 compares only DNS names: 20 of 20 failed
    /// with "Cryptographic error". Checked as curl does.
    @Test func aCertificateForTheURLsIPAddressVerifies() throws {
        let server = try server(certificate: "ip-server")
        let (stats, log) = try deliver(to: server, tls: "cacertfile = \"\(pki.path("ca.pem"))\"")
        #expect(stats.delivered == 3 && stats.failed == 0, "\(stats) \(log)")
        // And the server certificate that names the address beside a DNS name.
        let (both, _) = try deliver(to: try self.server(), tls: "cacertfile = \"\(pki.path("ca.pem"))\"")
        #expect(both.delivered == 3)
    }

    /// The address is matched exactly, and only against iPAddress names: a
    /// certificate for another address (with this one as a DNS name and a
    /// CN) from the same CA fails, as does the right certificate from a CA
    /// not trusted.
    @Test func anotherAddressOrAnUntrustedCAStillFails() throws {
        let (other, _) = try deliver(to: try server(certificate: "other-ip-server"), tls: "cacertfile = \"\(pki.path("ca.pem"))\"")
        #expect(other.delivered == 0 && other.failed == 3, "\(other)")
        let (untrusted, _) = try deliver(to: try server(certificate: "ip-server"), tls: "cacertfile = \"\(pki.path("other-ca.pem"))\"")
        #expect(untrusted.delivered == 0 && untrusted.failed == 3, "\(untrusted)")
        // A DNS server_name given for an address still goes by the DNS names.
        let (named, _) = try deliver(to: try server(certificate: "ip-server"), tls: "cacertfile = \"\(pki.path("ca.pem"))\", server_name = localhost")
        #expect(named.delivered == 0 && named.failed == 3, "\(named)")
    }
}
