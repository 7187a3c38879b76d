import CCurl
import Dispatch

/// A small client for outgoing HTTP requests (the outbox's webhooks), over libcurl's easy interface.
///
/// Why libcurl rather than `URLSession` or raw sockets: FoundationNetworking on Linux is itself built on libcurl
/// but pulls the whole of Foundation (a 70 MB static binary instead of 21 MB) and hides per-request timeouts
/// behind delegate plumbing; a socket client of our own would have to grow TLS, chunked bodies, redirects-off and
/// DNS timeouts. libcurl gives https, a hard whole-request timeout and connection reuse for free, from one Debian
/// package (`libcurl4-openssl-dev`).
///
/// Each request runs on the client's own concurrent queue (the call blocks in `curl_easy_perform`), never on
/// Swift's cooperative pool; callers bound the concurrency (the outbox dispatcher sends a few at a time).
public struct HTTPClient: Sendable {
    /// A response: status and (at most ``Configuration/maxResponseBytes`` of) the body.
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var body: [UInt8]

        public init(status: Int, body: [UInt8]) {
            self.status = status
            self.body = body
        }
    }

    /// A request that got no HTTP response.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public struct Code: Hashable, Sendable, CustomStringConvertible {
            private enum Base: String { case timeout, unreachable, invalidURL, transport }
            private let base: Base
            private init(_ base: Base) { self.base = base }

            /// No complete answer within the timeout.
            public static let timeout = Code(.timeout)
            /// Name resolution or connection failed.
            public static let unreachable = Code(.unreachable)
            /// The URL was refused (bad syntax or a scheme other than http/https).
            public static let invalidURL = Code(.invalidURL)
            /// Anything else (TLS, a broken response).
            public static let transport = Code(.transport)

            public var description: String { base.rawValue }
        }

        public var code: Code
        /// libcurl's message (never the URL's credentials or the body).
        public var message: String

        public var description: String { "\(code): \(message)" }
    }

    /// How responses are read.
    public struct Configuration: Sendable {
        /// The `User-Agent` header. Default `clpr`.
        public var userAgent: String
        /// The most of a response body kept; the rest is read and dropped. Default 64 KiB.
        public var maxResponseBytes: Int

        public init(userAgent: String = "clpr", maxResponseBytes: Int = 64 * 1024) {
            self.userAgent = userAgent
            self.maxResponseBytes = maxResponseBytes
        }
    }

    public let configuration: Configuration
    private let queue: DispatchQueue

    public init(configuration: Configuration = Configuration()) {
        _ = curlReady
        self.configuration = configuration
        self.queue = DispatchQueue(label: "clpr.http-client", attributes: .concurrent)
    }

    /// Sends `POST url` with `headers` and `body` and waits for the whole response, at most `timeout`
    /// (connecting included). Redirects are not followed; only `http` and `https` are allowed.
    /// - Throws: ``Failure`` when no HTTP response arrived.
    public func post(
        url: String, headers: [(String, String)], body: [UInt8], timeout: Duration
    ) async throws -> Response {
        let configuration = self.configuration
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(
                    with: Result {
                        try Self.perform(
                            url: url, headers: headers, body: body, timeout: timeout, configuration: configuration)
                    })
            }
        }
    }

    /// The blocking request, on the client's queue.
    private static func perform(
        url: String, headers: [(String, String)], body: [UInt8], timeout: Duration, configuration: Configuration
    ) throws -> Response {
        guard let handle = curl_easy_init() else {
            throw Failure(code: .transport, message: "curl_easy_init failed")
        }
        defer { curl_easy_cleanup(handle) }
        var list: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(list) }
        for (name, value) in headers + [("Expect", ""), ("User-Agent", configuration.userAgent)] {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        let buffer = ResponseBuffer(limit: configuration.maxResponseBytes)
        let context = Unmanaged.passUnretained(buffer).toOpaque()
        let (seconds, attoseconds) = timeout.components
        let milliseconds = max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))

        var rc = url.withCString { ccurl_setopt_pointer(handle, CURLOPT_URL, $0) }
        try check(rc, handle)
        rc = "http,https".withCString { ccurl_setopt_pointer(handle, CURLOPT_PROTOCOLS_STR, $0) }
        try check(rc, handle)
        try check(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), handle)  // timeouts without SIGALRM (threads)
        try check(ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds), handle)
        try check(ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds), handle)
        try check(ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0), handle)
        try check(ccurl_setopt_long(handle, CURLOPT_POST, 1), handle)
        try check(ccurl_setopt_pointer(handle, CURLOPT_HTTPHEADER, list), handle)
        try check(ccurl_setopt_write_function(handle, writeResponseBody), handle)
        try check(ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context), handle)
        return try body.withUnsafeBytes { bytes in
            try check(ccurl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count)), handle)
            try check(
                ccurl_setopt_pointer(handle, CURLOPT_POSTFIELDS, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)),
                handle)
            try check(curl_easy_perform(handle), handle)
            var status = 0
            try check(ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status), handle)
            return withExtendedLifetime(buffer) { Response(status: status, body: buffer.bytes) }
        }
    }

    /// The one funnel for libcurl's return codes.
    private static func check(_ rc: CURLcode, _ handle: UnsafeMutableRawPointer) throws {
        guard rc != CURLE_OK else { return }
        let message = String(cString: curl_easy_strerror(rc))
        let code: Failure.Code =
            switch rc {
            case CURLE_OPERATION_TIMEDOUT: .timeout
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_PROXY: .unreachable
            case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: .invalidURL
            default: .transport
            }
        throw Failure(code: code, message: message)
    }
}

/// Initialises libcurl once per process, before the first handle (Swift runs a global's initialiser once,
/// thread-safely).
private let curlReady: Bool = ccurl_global_init() == CURLE_OK

/// The response body collected by ``writeResponseBody``; used by one request on one thread.
private final class ResponseBuffer {
    var bytes: [UInt8] = []
    let limit: Int

    init(limit: Int) { self.limit = limit }
}

/// libcurl's body callback: keeps up to the buffer's limit and accepts (drops) the rest.
private func writeResponseBody(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    let total = size * count
    guard let data, let context else { return total }
    let buffer = Unmanaged<ResponseBuffer>.fromOpaque(context).takeUnretainedValue()
    let room = max(0, buffer.limit - buffer.bytes.count)
    if room > 0 {
        data.withMemoryRebound(to: UInt8.self, capacity: total) { pointer in
            buffer.bytes.append(contentsOf: UnsafeBufferPointer(start: pointer, count: min(room, total)))
        }
    }
    return total
}
