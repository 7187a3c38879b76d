import Foundation
import HTTPServer
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Routes whose body streams through libmicrohttpd's post processor into a ``FormSink``, and file responses.
@Suite struct FormUploadTests {
    /// Records every piece and how the body ended.
    final class RecordingSink: FormSink {
        struct State {
            var fields: [String: [UInt8]] = [:]
            var fileNames: [String: String] = [:]
            var contentTypes: [String: String] = [:]
            var pieces = 0
            var finished: [Bool] = []
        }
        let state = Mutex(State())
        let refuseField: String?

        init(refuseField: String? = nil) { self.refuseField = refuseField }

        func receive(
            field: String, fileName: String?, contentType: String?, offset: UInt64, data: UnsafeRawBufferPointer
        ) -> Bool {
            if field == refuseField { return false }
            state.withLock { state in
                #expect(UInt64(state.fields[field]?.count ?? 0) == offset)
                state.fields[field, default: []] += data
                if let fileName { state.fileNames[field] = fileName }
                if let contentType { state.contentTypes[field] = contentType }
                state.pieces += 1
            }
            return true
        }

        func finish(complete: Bool) { state.withLock { $0.finished.append(complete) } }
    }

    final class Sinks: Sendable {
        let made = Mutex<[RecordingSink]>([])
        let handled = Mutex(0)
    }

    static func router(_ sinks: Sinks, limit: Int = 1 << 20, refuseField: String? = nil) -> Router {
        var router = Router()
        router.post(
            "/upload",
            form: FormBody(maxBodySize: limit) {
                let sink = RecordingSink(refuseField: refuseField)
                sinks.made.withLock { $0.append(sink) }
                return sink
            }
        ) { request in
            sinks.handled.withLock { $0 += 1 }
            guard let sink = request.form as? RecordingSink else { return .text("no sink", status: 500) }
            let state = sink.state.withLock { $0 }
            #expect(state.finished.count == 1, "finished before the handler runs")
            let summary = state.fields.keys.sorted().map { "\($0)=\(state.fields[$0]!.count)" }
            return .text(summary.joined(separator: ",") + ";complete=\(state.finished.first == true)")
        }
        router.get("/file") { _ in
            let path = NSTemporaryDirectory() + "/clpr-file-body-\(UUID().uuidString)"
            _ = FileManager.default.createFile(atPath: path, contents: Data("file body\n".utf8))
            let descriptor = open(path, O_RDONLY)
            unlink(path)
            return HTTPResponse(
                status: 200, headers: ["Content-Type": "application/pdf"],
                body: .file(FileBody(descriptor: descriptor, size: 10)))
        }
        return router
    }

    static func multipart(boundary: String, file: [UInt8]) -> [UInt8] {
        Array(
            ("--\(boundary)\r\nContent-Disposition: form-data; name=\"field_name\"\r\n\r\npassport\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../a b.pdf\"\r\n"
                + "Content-Type: application/pdf\r\n\r\n").utf8) + file + Array("\r\n--\(boundary)--\r\n".utf8)
    }

    @Test func aMultipartBodyStreamsIntoTheSinkInPieces() async throws {
        let sinks = Sinks()
        try await withServer(Self.router(sinks)) { server in
            let file = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }  // CR, LF and dashes included
            let body = Self.multipart(boundary: "XyZ", file: file)
            let client = try TestClient(port: server.port)
            try await client.send(
                "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"
                    + "Content-Length: \(body.count)\r\n\r\n")
            try await client.send(body)
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "field_name=8,file=300000;complete=true")
            let sink = try #require(sinks.made.withLock { $0.first })
            let state = sink.state.withLock { $0 }
            #expect(state.fields["file"] == file)
            #expect(state.fileNames["file"] == "../a b.pdf")
            #expect(state.contentTypes["file"] == "application/pdf")
            #expect(state.pieces > 3, "the file arrived in pieces, not as one buffer")
        }
    }

    @Test func declaredBodyOverTheRouteLimitIs413AndNoSinkIsMade() async throws {
        let sinks = Sinks()
        try await withServer(Self.router(sinks, limit: 1000)) { server in
            let client = try TestClient(port: server.port)
            try await client.send(
                "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"
                    + "Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 413)
            #expect(sinks.made.withLock { $0.isEmpty })
            #expect(sinks.handled.withLock { $0 } == 0)
        }
    }

    /// JSON, or a urlencoded form (which cannot carry a file): 415 `unsupported_media_type` naming `Content-Type`,
    /// before the body is read.
    @Test func aBodyThatIsNotAFormIs415BeforeItIsRead() async throws {
        let sinks = Sinks()
        try await withServer(Self.router(sinks)) { server in
            for (type, body) in [
                ("application/json", "{}"), ("application/x-www-form-urlencoded", "field_name=a&file=b"),
            ] {
                let client = try TestClient(port: server.port)
                try await client.send(
                    "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                        + body)
                let response = try await client.readResponse()
                #expect(response.status == 415, "\(type)")
                #expect(response.text.contains("unsupported_media_type"), "\(type)")
            }
            #expect(sinks.handled.withLock { $0 } == 0)
            #expect(sinks.made.withLock { $0.isEmpty })
        }
    }

    @Test func aDroppedUploadFinishesTheSinkIncompleteAndNeverRunsTheHandler() async throws {
        let sinks = Sinks()
        try await withServer(Self.router(sinks)) { server in
            let body = Self.multipart(boundary: "XyZ", file: [UInt8](repeating: 7, count: 100_000))
            let client = try TestClient(port: server.port)
            try await client.send(
                "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"
                    + "Content-Length: \(body.count)\r\n\r\n")
            try await client.send(Array(body.prefix(50_000)))
            #expect(await eventually { sinks.made.withLock { $0.first?.state.withLock { $0.pieces } ?? 0 } > 0 })
            client.abort()
            let finished = await eventually(timeout: .seconds(10)) {
                sinks.made.withLock { $0.first?.state.withLock { $0.finished } } == [false]
            }
            #expect(finished, "\(sinks.made.withLock { $0.map { $0.state.withLock { $0.finished } } })")
            #expect(sinks.handled.withLock { $0 } == 0)
        }
    }

    @Test func aSinkThatRefusesGetsTheRestDroppedAndAnIncompleteFinish() async throws {
        let sinks = Sinks()
        try await withServer(Self.router(sinks, refuseField: "file")) { server in
            let body = Self.multipart(boundary: "XyZ", file: [UInt8](repeating: 1, count: 50_000))
            let client = try TestClient(port: server.port)
            try await client.send(
                "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"
                    + "Content-Length: \(body.count)\r\n\r\n")
            try await client.send(body)
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "field_name=8;complete=false")
        }
    }

    @Test func aFileBodyIsSentFromItsDescriptor() async throws {
        try await withServer(Self.router(Sinks())) { server in
            let client = try TestClient(port: server.port)
            try await client.send("GET /file HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "file body\n")
            #expect(response[header: "Content-Length"] == "10")
            try await client.send("HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = try await client.readResponse(head: true)
            #expect(head.status == 200)
        }
    }
}
