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

/// `MHD_ContentReaderFreeCallback` of a stream response: libmicrohttpd is done with it (the stream goes on if its
/// socket was taken over).
let mhdStreamFree: MHD_ContentReaderFreeCallback = { cls in
    guard let cls else { return }
    Unmanaged<ResponseStream>.fromOpaque(cls).takeRetainedValue().libraryReleased()
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

/// `MHD_AcceptPolicyCallback` (only with a per-address limit): refuses a new connection from an address that
/// holds the most connections allowed, across every event loop.
let mhdAcceptPolicy: MHD_AcceptPolicyCallback = { cls, address, _ in
    guard let cls else { return .NO }
    var high: UInt64 = 0
    var low: UInt64 = 0
    guard cmhd_address_key(address, &high, &low) == 1 else { return .YES }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    return core.admitsConnection(from: ClientAddressKey(high: high, low: low)) ? .YES : .NO
}

/// `MHD_NotifyConnectionCallback` (only with a per-address limit): counts each address's open connections.
let mhdNotifyConnection: MHD_NotifyConnectionCallback = { cls, connection, _, code in
    guard let cls, let connection else { return }
    var high: UInt64 = 0
    var low: UInt64 = 0
    guard cmhd_connection_address_key(connection, &high, &low) == 1 else { return }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    let key = ClientAddressKey(high: high, low: low)
    // `MHD_CONNECTION_NOTIFY_STARTED` (0) and `MHD_CONNECTION_NOTIFY_CLOSED` (1): the enum's cases are not
    // imported by name.
    switch code.rawValue {
    case 0: core.connectionStarted(from: key)
    case 1: core.libraryConnectionClosed(MHDConnection(connection), from: key)
    default: break
    }
}
