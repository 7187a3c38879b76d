import Synchronization

/// Per-request state between libmicrohttpd's calls of the access handler.
///
/// Created on the first call (headers read), released in `MHD_OPTION_NOTIFY_COMPLETED`. The body is appended on
/// libmicrohttpd's thread; the handler task hands its response back through ``complete(with:route:)``.
final class RequestContext: Sendable {
    enum Phase: Sendable {
        /// Headers read, body arriving.
        case receiving
        /// The connection is suspended while the router's task runs.
        case handling
        /// The task finished and resumed the connection; the next access-handler call queues the response.
        case ready(HTTPResponse, route: String?)
        /// A response was queued (or the request was refused).
        case responded
    }

    /// What the access handler should do on a call with no upload data.
    enum Step {
        case startHandler(body: [UInt8])
        case respond(HTTPResponse, route: String?)
        case wait
    }

    struct State {
        var body: [UInt8] = []
        var phase = Phase.receiving
        /// Set on the first call when the route streams its body through a ``FormSink``.
        var form: FormUpload?
    }

    let method: HTTPMethod
    let path: String
    let id: String
    let connection: MHDConnection
    /// The pattern of the route the request reaches, for logging a refusal made before the handler runs.
    let routePattern: String?
    let start: ContinuousClock.Instant
    let state = Mutex(State())

    init(method: HTTPMethod, path: String, id: String, connection: MHDConnection, routePattern: String? = nil) {
        self.method = method
        self.path = path
        self.id = id
        self.connection = connection
        self.routePattern = routePattern
        self.start = .now
    }

    /// The response the handler produced if it was never queued (the client went away while the handler ran, and
    /// libmicrohttpd finished the request on resume without asking for it). Taken once.
    func takeUnsentResponse() -> HTTPResponse? {
        state.withLock { state -> HTTPResponse? in
            guard case .ready(let response, _) = state.phase else { return nil }
            state.phase = .responded
            return response
        }
    }

    /// Appends a piece of the body. False (nothing appended) if the body would grow past `limit`.
    func appendBody(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Bool {
        state.withLock { state in
            guard state.body.count + bytes.count <= limit else { return false }
            state.body.append(contentsOf: bytes)
            return true
        }
    }

    /// The streamed body of a ``FormBody`` route, if this request has one.
    var form: FormUpload? {
        get { state.withLock { $0.form } }
        set { state.withLock { $0.form = newValue } }
    }

    /// Advances on a call without upload data: start the handler once, then answer once it is ready.
    func nextStep() -> Step {
        state.withLock { state -> Step in
            switch state.phase {
            case .receiving:
                state.phase = .handling
                defer { state.body = [] }
                return .startHandler(body: state.body)
            case .handling, .responded:
                return .wait
            case .ready(let response, let route):
                state.phase = .responded
                return .respond(response, route: route)
            }
        }
    }

    /// True from suspend until the response is queued (the connection may be in libmicrohttpd's suspended list).
    var isParked: Bool {
        state.withLock { state in
            switch state.phase {
            case .handling, .ready: true
            case .receiving, .responded: false
            }
        }
    }

    /// Marks the request answered without running the handler (413 on the first call).
    func markResponded() { state.withLock { $0.phase = .responded } }

    /// Stores the response and resumes the suspended connection. Only the first call counts (the handler task and
    /// a forced shutdown may race); later calls are ignored, so the connection is resumed exactly once.
    func complete(with response: HTTPResponse, route: String?) {
        let resume = state.withLock { state -> Bool in
            guard case .handling = state.phase else { return false }
            state.phase = .ready(response, route: route)
            return true
        }
        if resume { connection.resume() }
    }
}
