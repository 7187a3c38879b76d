import App
import AppCore
import Foundation
import Logging

/// A live ``Application`` for tests: `127.0.0.1:0`, a fresh temporary data directory, the repository's `web/`
/// folder, short timings and captured logs; plus an HTTP client speaking to it.
///
/// ```swift
/// try await withTestApplication { app in
///     let cookie = try await app.login()
///     let me = try await app.json("GET", "/api/v1/me", cookie: cookie)
///     #expect(me.status == 200)
/// }
/// ```
public final class TestApplication: Sendable {
    public let application: Application
    /// Every log entry the application wrote.
    public let logs: InMemoryLogHandler
    public let dataDirectory: String

    /// The bound port.
    public var port: UInt16 { application.port }
    /// `127.0.0.1:<port>`, the `Host` every request sends (and what a same-origin `Origin` names).
    public var host: String { "127.0.0.1:\(port)" }

    /// The defaults for tests: port 0, a new temporary data directory, the repository's `web/`, a 200 ms planner,
    /// a 10 s plan timeout, 1 s heartbeats, no resend cooldown and loose send limits for login codes.
    public static func configuration() -> Application.Configuration {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("clpr-tests-\(UUID().uuidString.lowercased())").path
        var configuration = Application.Configuration(
            port: 0, dataDirectory: directory, webDirectory: webDirectory, plannerDelay: .milliseconds(200),
            planTimeout: .seconds(10), heartbeatInterval: .seconds(1),
            loginCodePolicy: LoginCodePolicy(resendAfter: .zero), logLevel: "debug")
        // Many logins from 127.0.0.1 per test; the limits have tests of their own.
        configuration.loginRateLimits = .init(perPhone: 1000, perAddress: 10_000)
        return configuration
    }

    /// The repository's `web/` folder, found from this file's location.
    public static var webDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("web").path
    }

    /// Creates and starts an application.
    /// - Parameters:
    ///   - database: the store it runs on (as `CLPR_DATABASE_URL` would select it). Default SQLite in the
    ///     temporary data directory.
    ///   - configure: changes to ``configuration()``.
    /// - Throws: what ``Application/init(configuration:logger:)`` or ``Application/start()`` throws.
    public init(
        database: Application.Configuration.Database = .sqlite,
        configure: (inout Application.Configuration) -> Void = { _ in }
    ) throws {
        var configuration = Self.configuration()
        configuration.database = database
        configure(&configuration)
        configuration.port = 0
        let logs = InMemoryLogHandler()
        let application = try Application(
            configuration: configuration, logger: Logger(label: "clpr", logLevel: .debug, handler: logs))
        do {
            try application.start()
        } catch {
            try? FileManager.default.removeItem(atPath: configuration.dataDirectory)
            throw error
        }
        self.application = application
        self.logs = logs
        self.dataDirectory = configuration.dataDirectory
    }

    /// Creates and starts an application on a thread of its own: opening storage, migrating and loading the web
    /// folder block on file I/O, which must not stall the cooperative pool that every parallel test shares.
    /// - Parameters:
    ///   - database: the store it runs on. Default SQLite in the temporary data directory.
    ///   - configure: changes to ``configuration()``.
    public static func start(
        database: Application.Configuration.Database = .sqlite,
        configure: @escaping @Sendable (inout Application.Configuration) -> Void = { _ in }
    ) async throws -> TestApplication {
        try await offPool { try TestApplication(database: database, configure: configure) }
    }

    /// Shuts the application down and deletes its data directory.
    public func shutdown() async {
        await application.shutdown()
        let directory = dataDirectory
        _ = try? await offPool { try FileManager.default.removeItem(atPath: directory) }
    }

    // MARK: - HTTP

    /// Sends one request on a new connection and reads the whole response.
    /// - Parameters:
    ///   - method: `GET`, `POST`, …
    ///   - path: path and query (`/api/v1/me`).
    ///   - headers: extra header fields; `Host`, `Connection: close` and `Content-Length` are added.
    ///   - body: request body bytes, if any.
    ///   - cookie: the session cookie as `name=value`.
    ///   - timeout: how long to wait for the whole response.
    public func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        cookie: String? = nil, timeout: Duration = .seconds(10)
    ) async throws -> TestResponse {
        let connection = try TestConnection(port: port)
        try await connection.send(Self.head(method, path, host: host, headers: headers, body: body, cookie: cookie))
        let deadline = ContinuousClock.now + timeout
        return try await offPool { try connection.readResponseSync(method: method, until: deadline) }
    }

    /// A JSON request: `body` is raw text sent as `application/json` (unless `contentType` says otherwise).
    public func json(
        _ method: String, _ path: String, raw body: String? = nil, cookie: String? = nil,
        contentType: String = "application/json", headers: [(String, String)] = []
    ) async throws -> TestResponse {
        var all = headers
        all.append(("Accept", "application/json"))
        if body != nil { all.append(("Content-Type", contentType)) }
        return try await request(method, path, headers: all, body: body.map { Array($0.utf8) }, cookie: cookie)
    }

    /// A JSON request with `body` encoded as JSON.
    public func json(
        _ method: String, _ path: String, _ body: some Encodable, cookie: String? = nil,
        headers: [(String, String)] = []
    ) async throws -> TestResponse {
        try await json(method, path, raw: jsonText(body), cookie: cookie, headers: headers)
    }

    /// Opens a server-sent-events stream and reads its head (for a non-200 answer, the whole response).
    public func openStream(
        _ path: String, cookie: String?, lastEventID: String? = nil, timeout: Duration = .seconds(10)
    ) async throws -> EventStream {
        var headers = [("Accept", "text/event-stream"), ("Cache-Control", "no-cache")]
        if let lastEventID { headers.append(("Last-Event-ID", lastEventID)) }
        let connection = try TestConnection(port: port)
        try await connection.send(Self.head("GET", path, host: host, headers: headers, body: nil, cookie: cookie))
        let deadline = ContinuousClock.now + timeout
        let head = try await offPool { () throws -> TestResponse in
            var head = try connection.readHeadSync(until: deadline)
            guard head.status != 200 else { return head }
            // Not a stream: read the rest as an ordinary response body.
            if let length = head[header: "Content-Length"].flatMap({ Int($0) }), length > 0 {
                head.body = connection.readBytes(length, until: deadline) ?? []
            }
            return head
        }
        return EventStream(connection: connection, head: head)
    }

    static func head(
        _ method: String, _ path: String, host: String, headers: [(String, String)], body: [UInt8]?, cookie: String?
    ) -> [UInt8] {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let cookie { text += "Cookie: \(cookie)\r\n" }
        if let body { text += "Content-Length: \(body.count)\r\n" }
        text += "\r\n"
        return Array(text.utf8) + (body ?? [])
    }
}

/// Runs `body` with a started ``TestApplication`` and shuts it down afterwards, also when `body` throws.
///
/// At most ``ConcurrencyLimit/applications`` of these run at a time; the others wait for their turn.
/// - Parameters:
///   - database: the store it runs on (`.postgres(url:)` as `CLPR_DATABASE_URL` selects it). Default SQLite in
///     the temporary data directory.
///   - configure: changes to ``TestApplication/configuration()``.
///   - body: the test.
public func withTestApplication<Result>(
    database: Application.Configuration.Database = .sqlite,
    configure: @escaping @Sendable (inout Application.Configuration) -> Void = { _ in },
    _ body: (TestApplication) async throws -> Result
) async throws -> Result {
    try await ConcurrencyLimit.applications.run {
        let app = try await TestApplication.start(database: database, configure: configure)
        do {
            let result = try await body(app)
            await app.shutdown()
            return result
        } catch {
            await app.shutdown()
            throw error
        }
    }
}
