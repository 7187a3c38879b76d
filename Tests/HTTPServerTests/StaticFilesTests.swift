import Foundation
import Logging
import Testing

@testable import HTTPServer

@Suite struct StaticFilesTests {
    /// A fresh directory with a small web app in it.
    static func makeSite() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("clpr-static-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("assets/img"), withIntermediateDirectories: true)
        let files: [String: String] = [
            "index.html": "<!doctype html><title>clpr</title>",
            "assets/app.js": "console.log('hi')",
            "assets/app.mjs": "export {}",
            "assets/style.css": "body{}",
            "assets/img/logo.svg": "<svg/>",
            "assets/font.woff2": "wOF2",
            ".env": "SECRET=1",
        ]
        for (path, text) in files {
            try Data(text.utf8).write(to: root.appendingPathComponent(path))
        }
        return root.path
    }

    static func load() throws -> StaticFiles {
        try StaticFiles(root: try makeSite(), logger: Logger(label: "t", handler: InMemoryLogHandler()))
    }

    static let get = HTTPRequest(method: .get, path: "/")

    @Test func loadsFilesButNotDotfiles() throws {
        let files = try Self.load()
        #expect(
            files.paths == [
                "assets/app.js", "assets/app.mjs", "assets/font.woff2", "assets/img/logo.svg", "assets/style.css",
                "index.html",
            ])
    }

    @Test func contentTypesAndCaching() throws {
        let files = try Self.load()
        let expected: [(String, String, String)] = [
            ("/", "text/html; charset=utf-8", "no-cache"),
            ("/index.html", "text/html; charset=utf-8", "no-cache"),
            ("assets/app.js", "text/javascript; charset=utf-8", "public, max-age=300"),
            ("/assets/app.mjs", "text/javascript; charset=utf-8", "public, max-age=300"),
            ("/assets/style.css", "text/css; charset=utf-8", "public, max-age=300"),
            ("/assets/img/logo.svg", "image/svg+xml", "public, max-age=300"),
            ("/assets/font.woff2", "font/woff2", "public, max-age=300"),
        ]
        for (path, type, cache) in expected {
            let response = try #require(files.response(for: path, request: Self.get), "\(path)")
            #expect(response.status == 200)
            #expect(response.headers["Content-Type"] == type, "\(path)")
            #expect(response.headers["Cache-Control"] == cache, "\(path)")
            #expect(response.headers["Last-Modified"]?.hasSuffix(" GMT") == true)
        }
        let index = try #require(files.response(for: "/", request: Self.get))
        #expect(String(decoding: index.bodyBytes, as: UTF8.self) == "<!doctype html><title>clpr</title>")
    }

    @Test func etagIsStrongContentHash() throws {
        let files = try Self.load()
        let js = try #require(files.response(for: "/assets/app.js", request: Self.get))
        let etag = try #require(js.headers["ETag"])
        #expect(etag == "\"\(StaticFiles.fnv1a64Hex(Array("console.log('hi')".utf8)))\"")
        #expect(etag.count == 18)
        #expect(StaticFiles.fnv1a64Hex([]) == "cbf29ce484222325")
        #expect(StaticFiles.fnv1a64Hex(Array("a".utf8)) == "af63dc4c8601ec8c")
    }

    @Test func ifNoneMatchAnswers304() throws {
        let files = try Self.load()
        let etag = try #require(files.response(for: "/assets/app.js", request: Self.get)?.headers["ETag"])
        for condition in [etag, "\"other\", \(etag)", "W/\(etag)", "*"] {
            let request = HTTPRequest(method: .get, path: "/assets/app.js", headers: ["If-None-Match": condition])
            let response = try #require(files.response(for: "/assets/app.js", request: request))
            #expect(response.status == 304, "\(condition)")
            #expect(response.bodyBytes.isEmpty)
            #expect(response.headers["ETag"] == etag)
        }
        let stale = HTTPRequest(method: .get, path: "/assets/app.js", headers: ["If-None-Match": "\"stale\""])
        #expect(files.response(for: "/assets/app.js", request: stale)?.status == 200)
    }

    @Test func traversalAndUnknownPathsAreRefused() throws {
        let files = try Self.load()
        for path in [
            "/../etc/passwd", "/assets/../index.html", "..", "/assets\\app.js", "/index.html\0.js", "/nope.js",
            "/.env", "/assets",
        ] {
            #expect(files.response(for: path, request: Self.get) == nil, "\(path)")
        }
    }

    @Test func missingRootThrows() {
        #expect(throws: HTTPServerError(.invalidConfiguration, "")) {
            try StaticFiles(root: "/nonexistent/clpr", logger: Logger(label: "t", handler: InMemoryLogHandler()))
        }
    }

    @Test func servedLiveWithEtagRevalidation() async throws {
        let files = try Self.load()
        var router = Router()
        router.get("/*path") { request in
            guard let response = files.response(for: request.parameters["path"] ?? "", request: request) else {
                throw HTTPError(404, code: "not_found", message: "No such file.")
            }
            return response
        }
        try await withServer(router) { server in
            let client = try TestClient(port: server.port)
            try await client.send("GET /assets/app.js HTTP/1.1\r\nHost: x\r\n\r\n")
            let first = try await client.readResponse()
            #expect(first.status == 200)
            #expect(first.text == "console.log('hi')")
            #expect(first[header: "Content-Type"] == "text/javascript; charset=utf-8")
            let etag = try #require(first[header: "ETag"])
            try await client.send("GET /assets/app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: \(etag)\r\n\r\n")
            let second = try await client.readResponse()
            #expect(second.status == 304)
            try await client.send("GET /assets/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await client.readResponse().status == 404)
        }
    }
}
