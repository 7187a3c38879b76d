import Crypto
import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// The few file operations the app needs at start.
enum FileSystem {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create data directory \(path): \(error)")
        }
        guard access(path, W_OK) == 0 else { throw Failure(description: "data directory \(path) is not writable") }
    }

    /// The server's secret key: 32 random bytes created once (mode 0600) and kept across restarts, so one-time
    /// codes issued before a restart still verify.
    static func secretKey(at path: String) throws -> [UInt8] {
        if let data = FileManager.default.contents(atPath: path), data.count >= 32 {
            return Array(data)
        }
        let key = Crypto.randomBytes(32)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot write secret key \(path)") }
        defer { close(fd) }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == key.count else { throw Failure(description: "cannot write secret key \(path)") }
        return key
    }
}
