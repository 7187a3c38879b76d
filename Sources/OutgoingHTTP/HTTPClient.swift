import CCurl
import Foundation
import Synchronization

/// A minimal outgoing HTTP client (POST only) over libcurl, for webhooks and the Telegram Bot API.
///
/// Each call runs the blocking `curl_easy_perform` on a thread of its own, never on Swift's cooperative pool.
/// Redirects are not followed, only `http` and `https` are allowed, and the response body is capped.
/// Kept in its own module so that a shared client (the outbox's, issue 5) can replace it without touching callers.
public struct HTTPClient: Sendable {
    /// A response: status and (capped) body.
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var body: [UInt8]
    }

    /// Limits of one call.
    public struct Configuration: Sendable {
        /// The whole call, connect included. Default 10 s.
        public var timeout: Duration
        /// Connecting only. Default 3 s.
        public var connectTimeout: Duration
        /// Bytes of the response body kept. Default 64 KiB.
        public var maxResponseBytes: Int

        public init(
            timeout: Duration = .seconds(10), connectTimeout: Duration = .seconds(3), maxResponseBytes: Int = 64 << 10
        ) {
            self.timeout = timeout
            self.connectTimeout = connectTimeout
            self.maxResponseBytes = maxResponseBytes
        }
    }

    public let configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// POSTs `body` to `url`.
    /// - Parameters:
    ///   - url: `http://…` or `https://…`.
    ///   - headers: header fields; `Content-Type` must be among them when there is a body.
    ///   - body: the request body.
    /// - Returns: the response, whatever its status.
    /// - Throws: ``HTTPClientError`` when no response arrived (connect failure, timeout, TLS error).
    public func post(_ url: String, headers: [(String, String)], body: [UInt8]) async throws -> Response {
        let configuration = self.configuration
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(
                    with: Result {
                        try Self.perform(url: url, headers: headers, body: body, configuration: configuration)
                    })
            }.start()
        }
    }

    // MARK: - libcurl

    /// `curl_global_init` once per process, before the first handle (it is not thread-safe itself).
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    private final class Sink {
        var bytes: [UInt8] = []
        let limit: Int
        init(limit: Int) { self.limit = limit }
    }

    private static func perform(
        url: String, headers: [(String, String)], body: [UInt8], configuration: Configuration
    ) throws -> Response {
        try check(globalInit, "global init")
        guard let handle = curl_easy_init() else { throw HTTPClientError(.setup, detail: "curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }

        var list: UnsafeMutablePointer<curl_slist>? = nil
        for (name, value) in headers + [("Expect", "")] {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        defer { curl_slist_free_all(list) }

        let sink = Sink(limit: configuration.maxResponseBytes)
        let sinkPointer = Unmanaged.passRetained(sink)
        defer { sinkPointer.release() }
        let write: ccurl_write_callback = { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            let total = size * count
            let room = max(0, sink.limit - sink.bytes.count)
            data.withMemoryRebound(to: UInt8.self, capacity: total) { bytes in
                sink.bytes.append(contentsOf: UnsafeBufferPointer(start: bytes, count: min(total, room)))
            }
            return total
        }

        var requestBody = body
        let code: CURLcode = requestBody.withUnsafeMutableBytes { bodyBytes in
            let options: [CURLcode] = [
                ccurl_setopt_string(handle, CURLOPT_URL, url),
                ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"),
                ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1),
                ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0),
                ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds(configuration.timeout)),
                ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(configuration.connectTimeout)),
                ccurl_setopt_long(handle, CURLOPT_POST, 1),
                ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, bodyBytes.count),
                ccurl_setopt_pointer(handle, CURLOPT_POSTFIELDS, bodyBytes.baseAddress),
                ccurl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list)),
                ccurl_setopt_write_function(handle, write),
                ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer.toOpaque()),
            ]
            if let failed = options.first(where: { $0 != CURLE_OK }) { return failed }
            return curl_easy_perform(handle)
        }
        try check(code, "perform")
        var status = 0
        try check(ccurl_response_code(handle, &status), "response code")
        return Response(status: status, body: sink.bytes)
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    /// The one funnel for libcurl return codes.
    private static func check(_ code: CURLcode, _ operation: String) throws {
        guard code != CURLE_OK else { return }
        let message = String(cString: curl_easy_strerror(code))
        let kind: HTTPClientError.Code =
            switch code {
            case CURLE_OPERATION_TIMEDOUT: .timeout
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .unreachable
            default: .transfer
            }
        throw HTTPClientError(kind, detail: "\(operation): \(message) (\(code.rawValue))")
    }
}

/// Why an outgoing call got no response. `description` names the kind only; `detail` is libcurl's message.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String { case setup, unreachable, timeout, transfer }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// libcurl could not be set up.
        public static let setup = Code(.setup)
        /// The host could not be resolved or connected to.
        public static let unreachable = Code(.unreachable)
        /// No complete response within the timeout.
        public static let timeout = Code(.timeout)
        /// Any other transfer failure (TLS, protocol, refused URL).
        public static let transfer = Code(.transfer)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var detail: String

    public init(_ code: Code, detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "HTTPClientError(\(code))" }
    public var debugDescription: String { "HTTPClientError(\(code), \(detail))" }
}
