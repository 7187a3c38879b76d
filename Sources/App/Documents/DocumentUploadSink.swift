import AppCore
import Crypto
import HTTPServer
import Synchronization

/// Receives one `POST …/documents` body while libmicrohttpd parses it: the `file` part goes straight to a
/// temporary file (hashed on the way, its first bytes kept for sniffing), `field_name` is kept as text.
/// Nothing is decided here beyond the size limit: ``DocumentRoutes`` judges the result.
final class DocumentUploadSink: FormSink {
    /// Why the body was not taken as it came.
    enum Problem: Equatable {
        /// The file grew past the limit (the rest was dropped).
        case tooLarge
        /// More than one file part.
        case tooManyFiles
        /// The temporary file could not be written (detail for the log).
        case storage(String)
    }

    struct State {
        var fieldName: [UInt8] = []
        var file: (any TemporaryFile)?
        var fileName: String?
        var declaredType: String?
        var head: [UInt8] = []
        var size: Int64 = 0
        var problem: Problem?
        /// Set by ``finish(complete:)``.
        var complete: Bool?
    }

    /// The form field holding the file, and the one naming its slot.
    static let fileField = "file"
    static let slotField = "field_name"

    let files: any FileStore
    let maxBytes: Int64
    let hasher = SHA256Hasher()
    let state = Mutex(State())

    init(files: any FileStore, maxBytes: Int) {
        self.files = files
        self.maxBytes = Int64(maxBytes)
    }

    func receive(
        field: String, fileName: String?, contentType: String?, offset: UInt64, data: UnsafeRawBufferPointer
    ) -> Bool {
        state.withLock { state -> Bool in
            guard state.problem == nil else { return false }
            switch field {
            case Self.slotField:
                guard state.fieldName.count + data.count <= 200 else { return true }
                state.fieldName.append(contentsOf: data)
                return true
            case Self.fileField:
                return receiveFile(&state, fileName: fileName, contentType: contentType, offset: offset, data: data)
            default:
                return true  // unknown fields are ignored
            }
        }
    }

    private func receiveFile(
        _ state: inout State, fileName: String?, contentType: String?, offset: UInt64, data: UnsafeRawBufferPointer
    ) -> Bool {
        if state.file == nil {
            do {
                state.file = try files.makeTemporaryFile()
            } catch {
                state.problem = .storage("\(error)")
                return false
            }
            state.fileName = fileName ?? ""
            state.declaredType = contentType
        } else if offset == 0 && state.size > 0 && data.count > 0 {
            // A second file part starts over at offset 0: one file per request.
            state.problem = .tooManyFiles
            state.file?.discard()
            return false
        }
        guard data.count > 0 else { return true }
        state.size += Int64(data.count)
        guard state.size <= maxBytes else {
            state.problem = .tooLarge
            state.file?.discard()
            return false
        }
        if state.head.count < DocumentContentType.sniffLength {
            state.head.append(contentsOf: data.prefix(DocumentContentType.sniffLength - state.head.count))
        }
        hasher.update(data)
        do {
            try state.file?.write(data)
        } catch {
            state.problem = .storage("\(error)")
            state.file?.discard()
            return false
        }
        return true
    }

    func finish(complete: Bool) {
        state.withLock { state in
            state.complete = complete
            if !complete && state.problem == nil { state.file?.discard() }
        }
    }

    /// Removes the temporary file unless it was placed (harmless twice).
    func discard() { state.withLock { $0.file?.discard() } }

    /// The request is over: whatever was not placed goes (also when a check before the handler refused it).
    func close() { discard() }

    /// What arrived, once the body ended.
    struct Result {
        var fieldName: String
        var file: (any TemporaryFile)?
        var fileName: String
        var declaredType: String?
        var head: [UInt8]
        var size: Int64
        var problem: Problem?
        var complete: Bool
    }

    /// The upload as received; the digest is taken here (call once).
    func result() -> (Result, sha256: String) {
        let result = state.withLock { state in
            Result(
                fieldName: String(decoding: state.fieldName, as: UTF8.self), file: state.file,
                fileName: state.fileName ?? "", declaredType: state.declaredType, head: state.head, size: state.size,
                problem: state.problem, complete: state.complete ?? false)
        }
        return (result, Crypto.hex(hasher.finish()))
    }
}
