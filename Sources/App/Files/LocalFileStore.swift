import AppCore
import Crypto
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The ``FileStore`` on a local directory (`CLPR_FILES_DIR`, default `./data/files`):
/// `blobs/<first two hex digits>/<sha256>` for content, `tmp/` for uploads in progress.
///
/// A blob is written under `tmp/`, flushed (`fsync`), then renamed to its name and the directory flushed too, so a
/// crash leaves either nothing or a whole blob under a real name; ``removeOrphans(keeping:)`` at start removes
/// what an interrupted upload left in `tmp/`. Several instances need the directory shared (one volume).
struct LocalFileStore: FileStore {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let root: String
    var temporaryDirectory: String { root + "/tmp" }
    var blobDirectory: String { root + "/blobs" }

    /// Creates `root`, `tmp/` and `blobs/` when missing.
    /// - Throws: ``Failure`` naming the directory when one cannot be created or is not writable.
    init(root: String) throws {
        self.root = root
        for directory in [root, root + "/tmp", root + "/blobs"] {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw Failure(description: "cannot create files directory \(directory): \(error)")
            }
            guard access(directory, W_OK) == 0 else {
                throw Failure(description: "files directory \(directory) is not writable")
            }
        }
    }

    func makeTemporaryFile() throws -> any TemporaryFile {
        let path = temporaryDirectory + "/" + Crypto.hex(Crypto.randomBytes(16)) + ".part"
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Failure(description: "cannot create \(path): \(Self.errnoText())") }
        return LocalTemporaryFile(path: path, descriptor: descriptor)
    }

    func blobPath(_ sha256: String) throws -> String {
        // The name is a hex digest, never anything a person typed.
        guard sha256.count == 64, sha256.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { throw Failure(description: "not a SHA-256: \(sha256.prefix(80))") }
        return blobDirectory + "/" + sha256.prefix(2) + "/" + sha256
    }

    func place(_ file: any TemporaryFile, sha256: String) throws {
        guard let file = file as? LocalTemporaryFile else { throw Failure(description: "foreign temporary file") }
        let target = try blobPath(sha256)
        if access(target, F_OK) == 0 {
            file.discard()
            return
        }
        let directory = blobDirectory + "/" + sha256.prefix(2)
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw Failure(description: "cannot create \(directory): \(Self.errnoText())")
        }
        guard rename(file.path, target) == 0 else {
            throw Failure(description: "cannot rename into \(target): \(Self.errnoText())")
        }
        file.markPlaced()
        Self.syncDirectory(directory)
    }

    func open(sha256: String) throws -> OpenBlob? {
        let path = try blobPath(sha256)
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw Failure(description: "cannot open \(path): \(Self.errnoText())")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            throw Failure(description: "cannot stat \(path): \(Self.errnoText())")
        }
        return OpenBlob(descriptor: descriptor, size: UInt64(info.st_size))
    }

    func remove(sha256: String) throws {
        let path = try blobPath(sha256)
        guard unlink(path) == 0 || errno == ENOENT else {
            throw Failure(description: "cannot remove \(path): \(Self.errnoText())")
        }
    }

    func removeOrphans(keeping: Set<String>, modifiedBefore: Date) throws -> (temporaryFiles: Int, blobs: Int) {
        let cutoff = modifiedBefore.timeIntervalSince1970
        func removeIfOld(_ path: String) -> Bool {
            var info = stat()
            guard lstat(path, &info) == 0, Double(info.st_mtim.tv_sec) < cutoff else { return false }
            return unlink(path) == 0
        }
        var temporaryFiles = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporaryDirectory)) ?? [] {
            if removeIfOld(temporaryDirectory + "/" + name) { temporaryFiles += 1 }
        }
        var blobs = 0
        for prefix in (try? FileManager.default.contentsOfDirectory(atPath: blobDirectory)) ?? [] {
            let directory = blobDirectory + "/" + prefix
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            where !keeping.contains(name) {
                if removeIfOld(directory + "/" + name) { blobs += 1 }
            }
        }
        return (temporaryFiles, blobs)
    }

    static func syncDirectory(_ path: String) {
        let descriptor = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// A file under `tmp/`, written through a 64 KiB buffer.
final class LocalTemporaryFile: TemporaryFile {
    struct State {
        var descriptor: Int32
        var buffer: [UInt8] = []
        /// Renamed into the blob store: the path is no longer ours to remove.
        var placed = false
    }

    let path: String
    let state: Mutex<State>
    static let bufferSize = 64 * 1024

    init(path: String, descriptor: Int32) {
        self.path = path
        self.state = Mutex(State(descriptor: descriptor))
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try state.withLock { state in
            guard state.descriptor >= 0 else { throw LocalFileStore.Failure(description: "\(path) is closed") }
            state.buffer.append(contentsOf: bytes)
            if state.buffer.count >= Self.bufferSize { try Self.flush(&state, path: path) }
        }
    }

    func complete() throws {
        try state.withLock { state in
            guard state.descriptor >= 0 else { throw LocalFileStore.Failure(description: "\(path) is closed") }
            try Self.flush(&state, path: path)
            guard fsync(state.descriptor) == 0 else {
                throw LocalFileStore.Failure(description: "fsync \(path): \(LocalFileStore.errnoText())")
            }
            close(state.descriptor)
            state.descriptor = -1
        }
    }

    func discard() {
        state.withLock { state in
            if state.descriptor >= 0 {
                close(state.descriptor)
                state.descriptor = -1
            }
            state.buffer = []
            if !state.placed {
                unlink(path)
                state.placed = true
            }
        }
    }

    func markPlaced() { state.withLock { $0.placed = true } }

    private static func flush(_ state: inout State, path: String) throws {
        var offset = 0
        while offset < state.buffer.count {
            let written = state.buffer.withUnsafeBytes { raw in
                Glibc.write(state.descriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw LocalFileStore.Failure(description: "write \(path): \(LocalFileStore.errnoText())")
            }
            offset += written
        }
        state.buffer.removeAll(keepingCapacity: true)
    }

    deinit { discard() }
}
