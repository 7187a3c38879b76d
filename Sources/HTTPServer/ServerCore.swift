import CMicroHTTPD
import Dispatch
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The part of ``HTTPServer`` that libmicrohttpd's callbacks see (through an `Unmanaged` pointer).
///
/// Tracks what must be drained before the daemon may stop: open streams and requests whose connection is
/// suspended while their handler runs (stopping libmicrohttpd with suspended connections is undefined behaviour).
final class ServerCore: Sendable {
    struct State {
        var streams: [ObjectIdentifier: ResponseStream] = [:]
        /// Requests from suspend until their response has been sent.
        var handling: [ObjectIdentifier: RequestContext] = [:]
        /// Set by shutdown: new streams end at once, responses carry `Connection: close`.
        var draining = false
        /// The last message libmicrohttpd logged (used to explain a failed start).
        var lastLibraryMessage: String?
    }

    /// Open connections by client address, across every event loop (kept only with a per-address limit).
    let connectionsByAddress = Mutex<[ClientAddressKey: Int]>([:])

    let configuration: HTTPServer.Configuration
    let router: Router
    let logger: Logger
    let metrics: HTTPMetrics?
    let state = Mutex(State())

    init(configuration: HTTPServer.Configuration, router: Router, logger: Logger, metrics: HTTPMetrics? = nil) {
        self.configuration = configuration
        self.router = router
        self.logger = logger
        self.metrics = metrics
    }

    // MARK: - Connections per client address

    /// True while `address` holds fewer connections than ``HTTPServer/Configuration/connectionsPerAddress``.
    /// (Two connections accepted at the same moment on two loops may both pass: the limit can be exceeded by
    /// the number of loops at most, never by a client that opens connections one after another.)
    func admitsConnection(from address: ClientAddressKey) -> Bool {
        connectionsByAddress.withLock { ($0[address] ?? 0) < configuration.connectionsPerAddress }
    }

    func connectionStarted(from address: ClientAddressKey) {
        connectionsByAddress.withLock { $0[address, default: 0] += 1 }
    }

    /// Connections whose count passed to their stream (see `attachStream`): their close is not counted.
    let handedOverConnections = Mutex<Set<MHDConnection>>([])

    /// libmicrohttpd closed `connection` (from `address`).
    func libraryConnectionClosed(_ connection: MHDConnection, from address: ClientAddressKey) {
        guard handedOverConnections.withLock({ $0.remove(connection) }) == nil else { return }
        connectionClosed(from: address)
    }

    func connectionClosed(from address: ClientAddressKey) {
        connectionsByAddress.withLock { counts in
            guard let count = counts[address] else { return }
            counts[address] = count > 1 ? count - 1 : nil
        }
    }

    // MARK: - Access handler

    /// One call of the access handler (on a libmicrohttpd thread). Never blocks and never runs handler code.
    func handle(
        connection: OpaquePointer, url: UnsafePointer<CChar>, method: UnsafePointer<CChar>,
        uploadData: UnsafePointer<CChar>?, uploadDataSize: UnsafeMutablePointer<Int>,
        context: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    ) -> MHD_Result {
        guard let raw = context.pointee else {
            // First call: headers are in. Only set up the context (answering now would cost keep-alive), unless the
            // declared body is too large: refuse it before libmicrohttpd sends `100 Continue`.
            let requestMethod = HTTPMethod(rawValue: String(cString: method))
            let path = String(cString: url)
            // A route that streams its body (uploads) has a limit of its own; only POSTs can have one.
            let (route, form) = router.earlyLookup(method: requestMethod, path: path)
            let request = RequestContext(
                method: requestMethod, path: path, id: Self.makeRequestID(), connection: MHDConnection(connection),
                routePattern: route)
            context.pointee = Unmanaged.passRetained(request).toOpaque()
            // libmicrohttpd answers 431 itself only when the head does not fit its pool; a head that fits with too
            // little room left for the response would be handled and then get no answer at all.
            if cmhd_head_bytes(connection) + path.utf8.count > configuration.connectionMemoryLimit / 2 - 512 {
                request.markResponded()
                let refused = HTTPError(
                    431, code: "headers_too_large",
                    message: "Заголовки запроса слишком большие: удалите cookie этого сайта и повторите")
                return queue(refused.response(), route: route, for: request, on: connection)
            }
            let limit = form?.maxBodySize ?? configuration.maxBodySize
            if let declared = MHD_lookup_connection_value(connection, .HEADER_KIND, "Content-Length"),
                let length = UInt64(String(cString: declared)), length > UInt64(limit)
            {
                request.markResponded()
                return queue(form?.tooLarge ?? bodyTooLarge(limit: limit), route: route, for: request, on: connection)
            }
            if let form {
                guard let upload = FormUpload.start(on: connection, form: form) else {
                    request.markResponded()
                    let refused = HTTPError(
                        415, code: "unsupported_media_type", message: "Ожидается multipart/form-data",
                        field: "Content-Type")
                    return queue(refused.response(), route: route, for: request, on: connection)
                }
                request.form = upload
            }
            return .YES
        }
        let request = Unmanaged<RequestContext>.fromOpaque(raw).takeUnretainedValue()

        if uploadDataSize.pointee > 0, let upload = request.form {
            let piece = UnsafeRawBufferPointer(start: uploadData, count: uploadDataSize.pointee)
            uploadDataSize.pointee = 0
            guard upload.feed(piece) else {
                request.markResponded()
                logRequest(request, route: request.routePattern, status: 413, note: "body too large, connection closed")
                return .NO
            }
            return .YES
        }
        if uploadDataSize.pointee > 0 {
            let piece = UnsafeRawBufferPointer(start: uploadData, count: uploadDataSize.pointee)
            uploadDataSize.pointee = 0
            guard request.appendBody(piece, limit: configuration.maxBodySize) else {
                // A chunked body grew past the limit: a response cannot be queued mid-upload, so close.
                request.markResponded()
                logRequest(request, route: request.routePattern, status: 413, note: "body too large, connection closed")
                return .NO
            }
            return .YES
        }

        switch request.nextStep() {
        case .wait:
            return .YES
        case .startHandler(let body):
            var httpRequest = makeRequest(request, body: body, connection: connection)
            if let upload = request.form {
                upload.finish()
                httpRequest.form = upload.sink
            }
            state.withLock { $0.handling[ObjectIdentifier(request)] = request }
            // Suspend before the task exists, so its resume always finds a suspended connection.
            MHD_suspend_connection(connection)
            var requestLogger = logger
            requestLogger[metadataKey: "request.id"] = request.id
            let router = self.router
            Task { [requestLogger] in
                let (response, route) = await router.route(httpRequest, logger: requestLogger)
                request.complete(with: response, route: route)
            }
            return .YES
        case .respond(let response, let route):
            // Stays in `handling` until completed: shutdown waits until the response is actually sent.
            return queue(response, route: route, for: request, on: connection)
        }
    }

    private func bodyTooLarge(limit: Int) -> HTTPResponse {
        HTTPError(
            413, code: "payload_too_large", message: "Запрос слишком большой: не больше \(limit) байт"
        ).response()
    }

    /// Builds the router's view of the request (on libmicrohttpd's thread, before suspending).
    private func makeRequest(_ context: RequestContext, body: [UInt8], connection: OpaquePointer) -> HTTPRequest {
        var headerPairs: [(name: String, value: String)] = []
        _ = withUnsafeMutablePointer(to: &headerPairs) {
            MHD_get_connection_values(connection, .HEADER_KIND, mhdCollectPairs, $0)
        }
        var queryPairs: [(name: String, value: String)] = []
        _ = withUnsafeMutablePointer(to: &queryPairs) {
            MHD_get_connection_values(connection, .GET_ARGUMENT_KIND, mhdCollectPairs, $0)
        }
        var query: [String: String] = [:]
        for pair in queryPairs { query[pair.name] = pair.value }

        var address = [CChar](repeating: 0, count: 64)
        let known = cmhd_client_address(connection, &address, address.count) == 1
        let remoteAddress = known ? address.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } : nil

        return HTTPRequest(
            method: context.method, path: context.path, query: query, headers: HTTPHeaders(headerPairs), body: body,
            remoteAddress: remoteAddress, id: context.id)
    }

    /// `MHD_OPTION_NOTIFY_COMPLETED`: the response was sent (or the connection failed).
    func requestCompleted(_ request: RequestContext) {
        // The end of a streamed body's request: an unfinished body is reported incomplete, then the sink is closed.
        request.form?.abandon()
        // A stream never sent still has its close handlers to run (they hold the stream's registrations).
        if let unsent = request.takeUnsentResponse(), case .stream(let stream) = unsent.body { stream.markEnded() }
        state.withLock { _ = $0.handling.removeValue(forKey: ObjectIdentifier(request)) }
    }

    // MARK: - Responses

    /// Turns `response` into a libmicrohttpd response and queues it. Logs the request.
    private func queue(
        _ response: HTTPResponse, route: String?, for request: RequestContext, on connection: OpaquePointer
    ) -> MHD_Result {
        var response = response
        if !(100...599).contains(response.status) {
            logger.error(
                "handler returned an invalid status",
                metadata: ["request.id": request.id, "status": "\(response.status)"])
            response = HTTPError(500, code: "internal_error", message: "Внутренняя ошибка сервера. Попробуйте ещё раз")
                .response()
        }
        let draining = state.withLock { $0.draining }

        var mhdResponse: OpaquePointer?
        switch response.body {
        case .bytes(let bytes):
            mhdResponse = Self.bufferResponse(bytes)
        case .file(let file):
            if request.method != .head, let descriptor = file.take() {
                // libmicrohttpd owns the descriptor from here (closed with the response, or now if this fails).
                mhdResponse = MHD_create_response_from_fd64(file.size, descriptor)
                if mhdResponse == nil { close(descriptor) }
            } else {
                mhdResponse = Self.bufferResponse([])
            }
        case .stream(let stream):
            if request.method == .head {
                // HEAD gets GET's headers and no body: the stream is never sent.
                stream.markEnded()
                mhdResponse = Self.bufferResponse([])
            } else if let created = attachStream(stream, to: connection, draining: draining) {
                mhdResponse = created
            } else {
                logger.error(
                    "stream response could not be sent (already used?)", metadata: ["request.id": request.id])
                response = HTTPError(
                    500, code: "internal_error", message: "Внутренняя ошибка сервера. Попробуйте ещё раз"
                ).response()
                mhdResponse = Self.bufferResponse(response.bodyBytes)
            }
        }
        do {
            let mhdResponse = try MHD.check(mhdResponse, "MHD_create_response")
            defer { MHD_destroy_response(mhdResponse) }
            for (name, value) in response.headers {
                // libmicrohttpd computes framing itself, and refuses names or values with CR/LF (header injection).
                let lowered = name.lowercased()
                if lowered == "content-length" || lowered == "transfer-encoding" { continue }
                do {
                    try MHD.check(MHD_add_response_header(mhdResponse, name, value), "MHD_add_response_header")
                } catch {
                    logger.warning(
                        "dropped an invalid response header", metadata: ["request.id": request.id, "name": name])
                }
            }
            try MHD.check(MHD_add_response_header(mhdResponse, "X-Request-Id", request.id), "add X-Request-Id")
            if draining, !response.body.isStream {
                try MHD.check(MHD_add_response_header(mhdResponse, "Connection", "close"), "add Connection")
            }
            try MHD.check(MHD_queue_response(connection, UInt32(response.status), mhdResponse), "MHD_queue_response")
            logRequest(request, route: route, status: response.status, note: nil)
            return .YES
        } catch {
            logger.error(
                "could not send a response", metadata: ["request.id": request.id, "error": String(reflecting: error)])
            logRequest(request, route: route, status: response.status, note: "response failed, connection closed")
            return .NO
        }
    }

    private static func bufferResponse(_ bytes: [UInt8]) -> OpaquePointer? {
        bytes.withUnsafeBytes { buffer in
            MHD_create_response_from_buffer(
                buffer.count, UnsafeMutableRawPointer(mutating: buffer.baseAddress), .RESPMEM_MUST_COPY)
        }
    }

    /// Registers `stream` as open on `connection` and wraps it in a content-reader response.
    ///
    /// The body is not chunked: it ends when the connection closes (`Connection: close`). That way the bytes a
    /// stream sends straight to its socket (see ``ResponseStream``) need no framing, and never depend on whether
    /// libmicrohttpd would have chunked this particular response (it decides from the request's version and
    /// `Connection` header, its own state and the response's headers). Server-sent events lose nothing by it:
    /// an `EventSource` reconnects after any end of the body.
    private func attachStream(_ stream: ResponseStream, to connection: OpaquePointer, draining: Bool)
        -> OpaquePointer?
    {
        guard let loop = streamLoop.withLock({ $0 }) else { return nil }
        let id = ObjectIdentifier(stream)
        // With a per-address limit, a stream whose socket is taken over goes on counting as its client's connection:
        // the count passes from libmicrohttpd's connection (whose close is then not counted) to the stream.
        var high: UInt64 = 0
        var low: UInt64 = 0
        let address =
            configuration.connectionsPerAddress > 0 && cmhd_connection_address_key(connection, &high, &low) == 1
            ? ClientAddressKey(high: high, low: low) : nil
        let attached = stream.attach(
            to: MHDConnection(connection), socket: Int32(cmhd_connection_socket(connection)), loop: loop,
            resumeLater: { [self] in resumeSoon($0) },
            tookOver: { [self] connection in
                if address != nil { _ = handedOverConnections.withLock { $0.insert(connection) } }
            },
            takeOverFailed: { [self] failure in takeOverFailed(errno: failure) }
        ) { [self] tookOver in
            _ = state.withLock { $0.streams.removeValue(forKey: id) }
            if tookOver, let address { connectionClosed(from: address) }
        }
        guard attached else { return nil }
        state.withLock { $0.streams[id] = stream }
        let cls = Unmanaged.passRetained(stream).toOpaque()
        guard
            let response = MHD_create_response_from_callback(
                MHDConstants.sizeUnknown, Self.streamBlockSize, mhdStreamReader, cls, mhdStreamFree)
        else {
            Unmanaged<ResponseStream>.fromOpaque(cls).release()
            stream.markEnded()
            return nil
        }
        if cmhd_close_after_body(response) != 1 {
            MHD_destroy_response(response)
            return nil
        }
        if draining { stream.finish() }
        return response
    }

    /// libmicrohttpd allocates this much per stream response; server-sent events are small.
    static let streamBlockSize = 256

    // MARK: - Streams and shutdown

    /// The loop that holds streams' sockets after their heads are sent (set while the server runs).
    let streamLoop = Mutex<StreamSocketLoop?>(nil)

    /// Take-overs that failed since the last warning, and when that was (at most one line a second: when
    /// descriptors run out, every stream fails alike).
    let takeOverFailures = Mutex<(count: Int, lastWarning: ContinuousClock.Instant?)>((0, nil))

    /// A stream's socket could not be taken over (`errno`; `EMFILE`: the process is out of descriptors): the stream
    /// ended after its head, and the client reconnects after its `retry:`.
    func takeOverFailed(errno failure: Int32) {
        let now = ContinuousClock.now
        let report = takeOverFailures.withLock { state -> Int? in
            state.count += 1
            if let last = state.lastWarning, now - last < .seconds(1) { return nil }
            defer { state = (0, now) }
            return state.count
        }
        guard let report else { return }
        logger.warning(
            "stream ended after its head: its socket could not be taken over",
            metadata: ["errno": String(failure), "streams": String(report)])
    }

    /// Connections whose streams' sockets were taken over, waiting to be resumed (and let go) in one batch.
    let connectionsToResume = Mutex<[MHDConnection]>([])

    /// How long a taken-over connection may wait for others to share its resume.
    static let resumeBatchDelay = DispatchTimeInterval.milliseconds(20)

    /// Resumes `connection` (suspended by its stream when the socket was taken over) within
    /// ``resumeBatchDelay``, with every other one meanwhile. libmicrohttpd 0.9.75 walks all of a loop's
    /// suspended connections in each loop iteration that has a resume to process: when streams open by the
    /// thousand a second, one walk per batch rather than one per stream.
    func resumeSoon(_ connection: MHDConnection) {
        let first = connectionsToResume.withLock { batch in
            batch.append(connection)
            return batch.count == 1
        }
        guard first else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.resumeBatchDelay) { [self] in
            resumeBatchNow()
        }
    }

    /// Resumes every connection waiting in the batch (each is taken out first: it is resumed exactly once).
    func resumeBatchNow() {
        let batch = connectionsToResume.withLock { batch in
            defer { batch = [] }
            return batch
        }
        for connection in batch { connection.resume() }
    }

    var openStreamCount: Int { state.withLock { $0.streams.count } }

    /// How many parts the heartbeat interval is cut into (see ``heartbeat(_:slice:of:)``).
    static let heartbeatSlices = 15

    /// Writes `bytes` to the open streams of one slice (`slice` of `slices`, by identity), those with nothing
    /// pending. Going through every slice in turn reaches every stream once.
    func heartbeat(_ bytes: [UInt8], slice: Int, of slices: Int) {
        let streams = state.withLock { state in
            state.streams.compactMap { id, stream in
                Self.slice(of: id, slices) == slice ? stream : nil
            }
        }
        for stream in streams { stream.writeHeartbeat(bytes) }
    }

    static func slice(of id: ObjectIdentifier, _ slices: Int) -> Int {
        // Objects are 16-byte aligned: drop the low bits that never vary.
        Int((UInt(bitPattern: id) >> 4) % UInt(slices))
    }

    /// Starts draining: finishes every open stream; later streams end as soon as they start.
    func beginDraining() {
        let streams = state.withLock { state -> [ResponseStream] in
            state.draining = true
            return Array(state.streams.values)
        }
        for stream in streams { stream.finish() }
    }

    /// Ends every stream still open (shutdown, after the wait for them to flush).
    func closeStreams() {
        let streams = state.withLock { Array($0.streams.values) }
        for stream in streams { stream.markEnded() }
    }

    /// True when no stream is open and no request is parked in a handler.
    var isDrained: Bool { state.withLock { $0.streams.isEmpty && $0.handling.isEmpty } }

    /// Requests whose response has not been sent yet.
    var pendingRequestCount: Int { state.withLock { $0.handling.count } }

    /// Requests whose connection is (or may still be) suspended: handler running, or resumed but not yet answered.
    var parkedRequestCount: Int {
        let requests = state.withLock { Array($0.handling.values) }
        return requests.filter(\.isParked).count
    }

    /// Answers every request still inside its handler with 503, so its connection is resumed.
    func abandonHandlers() {
        let requests = state.withLock { Array($0.handling.values) }
        let response = HTTPError(
            503, code: "shutting_down", message: "The server is shutting down.", headers: ["Retry-After": "1"]
        ).response()
        for request in requests { request.complete(with: response, route: nil) }
    }

    // MARK: - Logging

    func libraryLog(_ message: String) {
        let masked = Self.maskedLibraryMessage(message)
        state.withLock { $0.lastLibraryMessage = masked }
        logger.debug("libmicrohttpd", metadata: ["detail": masked])
    }

    /// libmicrohttpd's message with every run of 16 or more token characters (letters, digits, `-`, `_`) replaced
    /// by `*`: its messages quote the request's path ("Failed to send the response body for the request for
    /// `/api/v1/claim-plan/TOKEN'"), which may hold a session token.
    static func maskedLibraryMessage(_ message: String) -> String {
        var output = ""
        var run = ""
        func flush() {
            output += run.count >= 16 ? "*" : run
            run = ""
        }
        for character in message {
            if character.isASCII, character.isLetter || character.isNumber || character == "-" || character == "_" {
                run.append(character)
            } else {
                flush()
                output.append(character)
            }
        }
        flush()
        return output
    }

    /// One line per request (never the query string or the body: they may hold secrets), and its metrics.
    private func logRequest(_ request: RequestContext, route: String?, status: Int, note: String?) {
        let micros = (ContinuousClock.now - request.start) / .microseconds(1)
        metrics?.record(route: route, method: request.method, status: status, seconds: Double(micros) / 1_000_000)
        var metadata: Logger.Metadata = [
            "method": request.method.rawValue,
            "status": String(status),
            "duration_ms": Self.milliseconds(fromMicroseconds: Int(micros)),
            "request.id": request.id,
        ]
        if let route { metadata["route"] = route } else { metadata["path"] = Self.loggablePath(request.path) }
        if let note { metadata["note"] = note }
        logger.info("request", metadata: metadata)
    }

    /// A path that matched no route, as logged: a segment holding something that looks like a token or id (16 or
    /// more letters, digits, `-` or `_` in a row: `TOKEN`, `TOKEN.js`) or like a phone number (7 or more digits:
    /// `+79161234567`, `8-916-123-45-67`) becomes `*`, and the whole is cut at 200 characters, so a mistyped URL
    /// never puts a session token or a phone in the log.
    static func loggablePath(_ path: String) -> String {
        let masked = path.split(separator: "/", omittingEmptySubsequences: false).map { segment -> Substring in
            var run = 0
            var longestRun = 0
            var digits = 0
            for byte in segment.utf8 {
                let isDigit = byte >= 0x30 && byte <= 0x39
                let isTokenByte =
                    isDigit || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                run = isTokenByte ? run + 1 : 0
                longestRun = max(longestRun, run)
                if isDigit { digits += 1 }
            }
            return longestRun >= 16 || digits >= 7 ? "*" : segment
        }.joined(separator: "/")
        return masked.count > 200 ? String(masked.prefix(200)) + "…" : masked
    }

    static func milliseconds(fromMicroseconds micros: Int) -> String {
        let fraction = String(micros % 1000)
        return "\(micros / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// 16 random hex digits.
    static func makeRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = String(generator.next() as UInt64, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

extension HTTPResponse {
    var bodyBytes: [UInt8] {
        if case .bytes(let bytes) = body { return bytes }
        return []
    }
}

/// A client's IP address (IPv4 as IPv4-mapped IPv6) as a dictionary key.
struct ClientAddressKey: Hashable, Sendable {
    var high: UInt64
    var low: UInt64
}

extension HTTPResponse.Body {
    /// A ``ResponseStream`` body (it closes the connection itself: see `attachStream`).
    fileprivate var isStream: Bool {
        if case .stream = self { return true }
        return false
    }
}
