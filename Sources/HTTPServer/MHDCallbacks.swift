import CMicroHTTPD

// The C callbacks handed to libmicrohttpd. They capture nothing: their context arrives as an `Unmanaged` pointer
// (`ServerCore`, `RequestContext`, `ResponseStream`), and each one forwards to a method at once.

/// `MHD_AccessHandlerCallback`: every call for a request (headers, body pieces, final, after resume).
let mhdAccessHandler: MHD_AccessHandlerCallback = {
    cls, connection, url, method, _, uploadData, uploadDataSize, requestContext in
    guard let cls, let connection, let url, let method, let uploadDataSize, let requestContext else { return .NO }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    return core.handle(
        connection: connection, url: url, method: method, uploadData: uploadData, uploadDataSize: uploadDataSize,
        context: requestContext)
}

/// `MHD_RequestCompletedCallback`: releases the per-request context (`cls` is the `ServerCore`).
let mhdRequestCompleted: MHD_RequestCompletedCallback = { cls, _, requestContext, _ in
    guard let cls, let requestContext, let raw = requestContext.pointee else { return }
    requestContext.pointee = nil
    let request = Unmanaged<RequestContext>.fromOpaque(raw).takeRetainedValue()
    Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue().requestCompleted(request)
}

/// `MHD_ContentReaderCallback` of a stream response.
let mhdStreamReader: MHD_ContentReaderCallback = { cls, _, buffer, capacity in
    guard let cls, let buffer else { return MHDConstants.endWithError }
    let stream = Unmanaged<ResponseStream>.fromOpaque(cls).takeUnretainedValue()
    return stream.read(into: UnsafeMutableRawPointer(buffer), capacity: capacity)
}

/// `MHD_ContentReaderFreeCallback` of a stream response: the server is done with it.
let mhdStreamFree: MHD_ContentReaderFreeCallback = { cls in
    guard let cls else { return }
    Unmanaged<ResponseStream>.fromOpaque(cls).takeRetainedValue().markEnded()
}

/// `MHD_KeyValueIterator` collecting into an `[(name: String, value: String)]` passed as `cls`.
let mhdCollectPairs: MHD_KeyValueIterator = { cls, _, key, value in
    guard let cls, let key else { return .YES }
    let pairs = cls.assumingMemoryBound(to: [(name: String, value: String)].self)
    pairs.pointee.append((name: String(cString: key), value: value.map { String(cString: $0) } ?? ""))
    return .YES
}

/// `cmhd_log_fn`: libmicrohttpd's own messages (formatted by the shim).
let mhdLogSink: cmhd_log_fn = { cls, message in
    guard let cls, let message else { return }
    Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue().libraryLog(String(cString: message))
}
