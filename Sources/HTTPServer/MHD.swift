import CMicroHTTPD

// MARK: - Values libmicrohttpd defines as cast macros (not imported)

enum MHDConstants {
    /// `MHD_SIZE_UNKNOWN`: a response of unknown length (chunked, or ended by closing the connection).
    static let sizeUnknown = UInt64.max
    /// `MHD_CONTENT_READER_END_OF_STREAM`.
    static let endOfStream = -1
    /// `MHD_CONTENT_READER_END_WITH_ERROR`.
    static let endWithError = -2
}

// MARK: - Handles

/// A `struct MHD_Connection *` carried as an address so it can live in `Sendable` state.
///
/// Who may use it when is a protocol, not a type-system fact: a request or stream only touches its connection
/// on libmicrohttpd's thread (inside a callback) or to resume it after it was suspended (the connection cannot go
/// away while suspended).
struct MHDConnection: Sendable, Hashable {
    let address: UInt

    init(_ pointer: OpaquePointer) { address = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(pointer))) }

    var pointer: OpaquePointer { OpaquePointer(bitPattern: address)! }

    func suspend() { MHD_suspend_connection(pointer) }
    func resume() { MHD_resume_connection(pointer) }
}

/// A `struct MHD_Daemon *` carried as an address (see ``MHDConnection``); only ``HTTPServer`` touches it.
struct MHDDaemon: Sendable, Hashable {
    let address: UInt

    init(_ pointer: OpaquePointer) { address = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(pointer))) }

    var pointer: OpaquePointer { OpaquePointer(bitPattern: address)! }
}

// MARK: - The funnel for libmicrohttpd results

enum MHD {
    /// Turns an `MHD_Result` into a thrown ``HTTPServerError``.
    static func check(
        _ result: MHD_Result, _ operation: @autoclosure () -> String, file: String = #fileID, line: Int = #line
    ) throws(HTTPServerError) {
        guard result == .YES else {
            throw HTTPServerError(.libraryCall, "\(operation()) failed", file: file, line: line)
        }
    }

    /// Unwraps a pointer a libmicrohttpd constructor returned, or throws.
    static func check<Pointer>(
        _ pointer: Pointer?, _ operation: @autoclosure () -> String, file: String = #fileID, line: Int = #line
    ) throws(HTTPServerError) -> Pointer {
        guard let pointer else {
            throw HTTPServerError(.libraryCall, "\(operation()) failed", file: file, line: line)
        }
        return pointer
    }
}
