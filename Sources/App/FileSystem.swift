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

}
