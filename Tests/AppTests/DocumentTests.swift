import AppCore
import AppTesting
import Crypto
import Foundation
import Testing

@testable import App

/// The documents step over live HTTP (`127.0.0.1:0`), on SQLite and on PostgreSQL: multipart uploads streamed
/// through libmicrohttpd's post processor, download, refusals, owner checks, and the final send with its n8n
/// webhook through the outbox.
@Suite struct DocumentTests {
    static let pdf = Array("%PDF-1.4\n1 0 obj <<>> endobj\n".utf8)

    /// A travel claim submitted, planned by the built-in planner and confirmed.
    static func confirmedClaim(_ app: TestApplication, cookie: String) async throws -> String {
        let submission = try await app.submitNewClaim(cookie: cookie)
        _ = try #require(try await app.waitForPlan(claimID: submission.claimID, cookie: cookie))
        let confirmed = try await app.json(
            "POST", "/api/v1/claims/\(submission.claimID)/confirm", ["submission_id": submission.submissionID],
            cookie: cookie)
        #expect(confirmed.json?["status"]?.string == "awaiting_documents")
        return submission.claimID
    }

    /// A `multipart/form-data` body with `field_name` and one `file` part.
    static func multipart(
        field: String, fileName: String, contentType: String, content: [UInt8]
    ) -> (contentType: String, body: [UInt8]) {
        let boundary = "clpr-test-" + UUID().uuidString
        var body = Array(
            ("--\(boundary)\r\nContent-Disposition: form-data; name=\"field_name\"\r\n\r\n\(field)\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(fileName)\"\r\n"
                + "Content-Type: \(contentType)\r\n\r\n").utf8)
        body += content
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        return ("multipart/form-data; boundary=\(boundary)", body)
    }

    static func upload(
        _ app: TestApplication, claimID: String, field: String, content: [UInt8], fileName: String = "scan.pdf",
        contentType: String = "application/pdf", cookie: String?
    ) async throws -> TestResponse {
        let form = multipart(field: field, fileName: fileName, contentType: contentType, content: content)
        return try await app.request(
            "POST", "/api/v1/claims/\(claimID)/documents",
            headers: [("Content-Type", form.contentType), ("Accept", "application/json")], body: form.body,
            cookie: cookie)
    }

    static func storedFiles(_ app: TestApplication) -> [String] {
        let root = app.dataDirectory + "/files"
        let blobs = (try? FileManager.default.subpathsOfDirectory(atPath: root + "/blobs")) ?? []
        let temporary = (try? FileManager.default.contentsOfDirectory(atPath: root + "/tmp")) ?? []
        return blobs.filter { $0.count > 3 } + temporary.map { "tmp/" + $0 }
    }

    @Test(arguments: IdentityBackend.available)
    func uploadDownloadDedupeAndSendWithTheWebhook(_ backend: IdentityBackend) async throws {
        let n8n = try FakeHTTPReceiver()
        defer { Task { await n8n.shutdown() } }
        try await backend.withApplication(configure: { configuration in
            configuration.n8n = .init(webhookURL: n8n.baseURL + "/webhook/clpr", secret: "test-secret-0123456789")
            configuration.planner = .builtin
            configuration.outbox.pollInterval = .milliseconds(50)
        }) { app in
            let cookie = try await app.login()
            let claimID = try await Self.confirmedClaim(app, cookie: cookie)
            let listing = try await app.json("GET", "/api/v1/claims/\(claimID)/documents", cookie: cookie)
            let slots = try #require(listing.json?["slots"]?.array).compactMap { $0["code"]?.string }
            #expect(slots.count >= 3)
            #expect(listing.json?["can_submit"]?.bool == false)

            let first = try await Self.upload(app, claimID: claimID, field: slots[0], content: Self.pdf, cookie: cookie)
            #expect(first.status == 201)
            let again = try await Self.upload(app, claimID: claimID, field: slots[0], content: Self.pdf, cookie: cookie)
            #expect(again.status == 200)
            #expect(again.json?["id"] == first.json?["id"])
            let url = try #require(first.json?["download_url"]?.string)
            let download = try await app.request("GET", url, cookie: cookie)
            #expect(download.status == 200)
            #expect(download.body == Self.pdf)
            #expect(download[header: "Content-Type"] == "application/pdf")
            #expect(
                download[header: "Content-Disposition"]
                    == "attachment; filename=\"scan.pdf\"; filename*=UTF-8''scan.pdf")
            #expect(
                Self.storedFiles(app) == [
                    String(Crypto.hex(Crypto.sha256(Self.pdf)).prefix(2)) + "/" + Crypto.hex(Crypto.sha256(Self.pdf))
                ])

            let early = try await app.json("POST", "/api/v1/claims/\(claimID)/documents/submit", cookie: cookie)
            #expect(early.status == 422)
            #expect(early.errorCode == "documents_missing")
            #expect(n8n.requests.isEmpty)

            for (index, slot) in slots.enumerated().dropFirst() {
                let response = try await Self.upload(
                    app, claimID: claimID, field: slot, content: Self.pdf + Array("%\(index)".utf8), cookie: cookie)
                #expect(response.status == 201)
            }
            let sent = try await app.json("POST", "/api/v1/claims/\(claimID)/documents/submit", cookie: cookie)
            #expect(sent.status == 200)
            #expect(sent.json?["status"]?.string == "in_work")

            let received = await n8n.waitFor(1)
            let call = try #require(received.first)
            #expect(call.path == "/webhook/clpr")
            #expect(call.headers["x-clpr-signature"] != nil || call.headers["X-Clpr-Signature"] != nil)
            #expect(call.json?["event"]?.string == "claim_submitted")
            #expect(call.json?["claim_id"]?.string == claimID)
            #expect(call.json?["documents"]?.array?.count == slots.count)
            // Sending again is a no-op: no second webhook.
            #expect(
                try await app.json("POST", "/api/v1/claims/\(claimID)/documents/submit", cookie: cookie).status == 200)
            try await Task.sleep(for: .milliseconds(300))
            #expect(n8n.requests.count == 1)
        }
    }

    @Test(arguments: IdentityBackend.available)
    func refusalsStoreNothing(_ backend: IdentityBackend) async throws {
        try await backend.withApplication(configure: { $0.documentMaxBytes = 64 * 1024 }) { app in
            let cookie = try await app.login()
            let claimID = try await Self.confirmedClaim(app, cookie: cookie)
            let path = "/api/v1/claims/\(claimID)/documents"

            // Over the limit by Content-Length: 413 before the body is read.
            let big = try await Self.upload(
                app, claimID: claimID, field: "passport", content: Self.pdf + [UInt8](repeating: 0, count: 200 * 1024),
                cookie: cookie)
            #expect(big.status == 413)
            #expect(big.errorCode == "document_too_large")
            // Over the file limit but within the request's: read, dropped, 413.
            let edge = try await Self.upload(
                app, claimID: claimID, field: "passport", content: Self.pdf + [UInt8](repeating: 0, count: 64 * 1024),
                cookie: cookie)
            #expect(edge.status == 413)
            let elf = try await Self.upload(
                app, claimID: claimID, field: "passport", content: [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0], cookie: cookie)
            #expect(elf.status == 415)
            #expect(elf.errorCode == "unsupported_document_type")
            let json = try await app.json("POST", path, raw: #"{"field_name":"passport"}"#, cookie: cookie)
            #expect(json.status == 415)
            let unknownSlot = try await Self.upload(
                app, claimID: claimID, field: "nope", content: Self.pdf, cookie: cookie)
            #expect(unknownSlot.status == 422)
            #expect(unknownSlot.errorCode == "unknown_document")
            let unnamed = try await Self.upload(app, claimID: claimID, field: "", content: Self.pdf, cookie: cookie)
            #expect(unnamed.status == 400)
            #expect(unnamed.errorCode == "missing_field")

            // Someone else: 404 for every route, like an unknown claim.
            let stranger = try await app.login(phone: "+79035550011")
            let foreign = try await Self.upload(
                app, claimID: claimID, field: "passport", content: Self.pdf, cookie: stranger)
            #expect(foreign.status == 404)
            #expect(try await app.json("GET", path, cookie: stranger).status == 404)
            #expect(try await app.json("POST", path + "/submit", cookie: stranger).status == 404)
            #expect(
                try await Self.upload(app, claimID: claimID, field: "passport", content: Self.pdf, cookie: nil).status
                    == 401)

            #expect(Self.storedFiles(app).isEmpty)
            let listing = try await app.json("GET", path, cookie: cookie)
            #expect(listing.json?["documents"]?.array?.isEmpty == true)
        }
    }

    @Test func uploadsToADraftAreRefused() async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            let response = try await Self.upload(
                app, claimID: submission.claimID, field: "passport", content: Self.pdf, cookie: cookie)
            #expect(response.status == 409)
            #expect(response.errorCode == "documents_closed")
            #expect(Self.storedFiles(app).isEmpty)
        }
    }
}
