import CMicroHTTPD
import Synchronization

/// Receives a `multipart/form-data` body piece by piece as libmicrohttpd's post processor parses
/// it, so a large upload is never held in memory.
///
/// Every call comes on libmicrohttpd's thread, in order, while the body arrives: keep them short (appending to a
/// file is fine; waiting on anything else is not).
public protocol FormSink: AnyObject, Sendable {
    /// A piece of the value of form field `field`.
    /// - Parameters:
    ///   - field: the part's `name`.
    ///   - fileName: the part's `filename` as the client sent it (untrusted), nil for a plain field.
    ///   - contentType: the part's declared `Content-Type` (untrusted), if any.
    ///   - offset: where `data` starts within this field's value (0 for its first piece).
    ///   - data: the bytes; may be empty.
    /// - Returns: false to stop parsing: the rest of the body is read and dropped, and ``finish(complete:)`` is
    ///   told the body was not complete.
    func receive(
        field: String, fileName: String?, contentType: String?, offset: UInt64, data: UnsafeRawBufferPointer
    ) -> Bool

    /// The body ended. Called exactly once: before the handler runs (`complete` is true when every part was
    /// parsed up to the closing boundary and no ``receive(field:fileName:contentType:offset:data:)`` refused), or
    /// with `complete == false` when the connection closed first (the handler then never runs).
    func finish(complete: Bool)

    /// The request is over (its response was sent, or the connection went away): release whatever the handler did
    /// not take over, also when the handler never ran (a check before it refused the request). Called once, last,
    /// on libmicrohttpd's thread. The default does nothing.
    func close()
}

extension FormSink {
    public func close() {}
}

/// How a route takes its body: streamed through a ``FormSink`` instead of buffered (see
/// ``Router/post(_:form:use:)``).
public struct FormBody: Sendable {
    /// The largest body accepted on this route (instead of the server's ``HTTPServer/Configuration/maxBodySize``):
    /// a larger `Content-Length` is answered 413 before the body is read; a chunked body growing past it closes
    /// the connection.
    public var maxBodySize: Int
    /// Makes the sink for one request (on libmicrohttpd's thread, when the request's headers are in).
    public var makeSink: @Sendable () -> any FormSink
    /// The answer to a `Content-Length` over ``maxBodySize``; nil: the server's generic 413.
    public var tooLarge: HTTPResponse?

    public init(
        maxBodySize: Int, tooLarge: HTTPResponse? = nil, makeSink: @escaping @Sendable () -> any FormSink
    ) {
        self.maxBodySize = maxBodySize
        self.tooLarge = tooLarge
        self.makeSink = makeSink
    }
}

/// One request's post processor and sink, between libmicrohttpd's calls of the access handler.
final class FormUpload: Sendable {
    struct State {
        /// The `struct MHD_PostProcessor *` as an address; 0 once destroyed.
        var processor: UInt = 0
        var received = 0
        /// The parser or the sink refused: the rest of the body is dropped.
        var refused = false
        var finished = false
    }

    let sink: any FormSink
    let limit: Int
    let state = Mutex(State())

    /// libmicrohttpd's post-processor buffer: parts are handed to the sink in pieces of at most this size.
    static let processorBufferSize = 64 * 1024

    private init(sink: any FormSink, limit: Int) {
        self.sink = sink
        self.limit = limit
    }

    /// Creates the post processor for `connection`; nil when the request's `Content-Type` is not
    /// `multipart/form-data` with a boundary (libmicrohttpd would also parse urlencoded bodies, which cannot carry a
    /// file's name: refused as the wrong media type rather than read as a file of the wrong type).
    static func start(on connection: OpaquePointer, form: FormBody) -> FormUpload? {
        guard let type = MHD_lookup_connection_value(connection, .HEADER_KIND, "Content-Type"),
            String(cString: type).lowercased().hasPrefix("multipart/form-data")
        else { return nil }
        let upload = FormUpload(sink: form.makeSink(), limit: form.maxBodySize)
        // The upload outlives its processor: ``RequestContext`` holds it until the request completes.
        let cls = Unmanaged.passUnretained(upload).toOpaque()
        guard let processor = MHD_create_post_processor(connection, processorBufferSize, mhdPostIterator, cls) else {
            return nil
        }
        upload.state.withLock { $0.processor = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(processor))) }
        return upload
    }

    /// Parses one piece of the body. False when the body grew past the limit (the caller closes the connection).
    func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let processor = state.withLock { state -> UInt? in
            state.received += bytes.count
            guard state.received <= limit else { return nil }
            return state.refused ? 0 : state.processor
        }
        guard let processor else { return false }
        guard processor != 0, let pointer = OpaquePointer(bitPattern: processor), let base = bytes.baseAddress else {
            return true
        }
        let result = MHD_post_process(pointer, base.assumingMemoryBound(to: CChar.self), bytes.count)
        if result != .YES { state.withLock { $0.refused = true } }
        return true
    }

    /// The body is complete: destroys the processor and tells the sink. Harmless after ``abandon()``.
    func finish() { end(connectionClosed: false) }

    /// The request is over: a body that never finished (connection closed, body too large) is reported incomplete,
    /// then the sink is closed.
    func abandon() {
        end(connectionClosed: true)
        sink.close()
    }

    private func end(connectionClosed: Bool) {
        let (processor, alreadyFinished, refused) = state.withLock { state in
            defer {
                state.processor = 0
                state.finished = true
            }
            return (state.processor, state.finished, state.refused)
        }
        guard !alreadyFinished else { return }
        var complete = !connectionClosed && !refused
        if processor != 0, let pointer = OpaquePointer(bitPattern: processor) {
            // NO here means the closing boundary never came (a truncated body).
            if MHD_destroy_post_processor(pointer) != .YES { complete = false }
        }
        sink.finish(complete: complete)
    }
}

/// `MHD_PostDataIterator`: one piece of one form field (`cls` is the ``FormUpload``).
let mhdPostIterator: MHD_PostDataIterator = {
    cls, _, key, fileName, contentType, _, data, offset, size in
    guard let cls else { return .NO }
    let upload = Unmanaged<FormUpload>.fromOpaque(cls).takeUnretainedValue()
    let field = key.map { String(cString: $0) } ?? ""
    let accepted = upload.sink.receive(
        field: field, fileName: fileName.map { String(cString: $0) },
        contentType: contentType.map { String(cString: $0) }, offset: offset,
        data: UnsafeRawBufferPointer(start: data.map(UnsafeRawPointer.init), count: data == nil ? 0 : size))
    return accepted ? .YES : .NO
}
