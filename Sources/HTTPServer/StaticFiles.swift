import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Serves a small web app from memory: every regular file under `root` is read once, at init.
///
/// Register it on `GET /*path`; `/` serves `index.html`. Each file gets a strong `ETag` (FNV-1a 64 of its bytes)
/// and `Last-Modified`; `If-None-Match` answers 304. HTML is `Cache-Control: no-cache` (always revalidated, so a
/// deploy shows at once); other files get a short `max-age`. Paths with `..`, NUL or backslash are refused (nil).
/// Dotfiles and symbolic links are not loaded. Security headers are the app's business.
public struct StaticFiles: Sendable {
    struct File: Sendable {
        var bytes: [UInt8]
        var contentType: String
        var etag: String
        var lastModified: String
        var cacheControl: String
    }

    let files: [String: File]

    /// The relative paths loaded (`index.html`, `assets/app.js`), sorted.
    public var paths: [String] { files.keys.sorted() }

    /// Loads every file under `root`.
    /// - Parameters:
    ///   - root: a directory.
    ///   - maxAge: `Cache-Control: max-age` in seconds for everything but HTML. Default 300.
    ///   - logger: gets one `info` line with the number of files and bytes loaded.
    /// - Throws: ``HTTPServerError`` `.invalidConfiguration` if `root` is not a readable directory or a file
    ///   cannot be read.
    public init(root: String, maxAge: Int = 300, logger: Logger) throws {
        var files: [String: File] = [:]
        var total = 0
        for (relative, absolute) in try Self.listFiles(root: root) {
            let (bytes, modified) = try Self.read(absolute)
            let contentType = Self.contentType(forPath: relative)
            let isHTML = contentType.hasPrefix("text/html")
            files[relative] = File(
                bytes: bytes, contentType: contentType, etag: "\"\(Self.fnv1a64Hex(bytes))\"",
                lastModified: Self.httpDate(modified),
                cacheControl: isHTML ? "no-cache" : "public, max-age=\(maxAge)")
            total += bytes.count
        }
        self.files = files
        logger.info(
            "static files loaded", metadata: ["root": root, "files": String(files.count), "bytes": String(total)])
    }

    /// The response for `path` (`/`, `/app.js`, or `app.js` as bound by a `*path` route), or nil if there is no such
    /// file or the path is refused. Answers 304 when `If-None-Match` matches.
    public func response(for path: String, request: HTTPRequest) -> HTTPResponse? {
        guard !path.contains(".."), !path.contains("\0"), !path.contains("\\") else { return nil }
        var relative = String(path.drop(while: { $0 == "/" }))
        if relative.isEmpty || relative.hasSuffix("/") { relative += "index.html" }
        guard let file = files[relative] else { return nil }

        var headers: HTTPHeaders = [
            "ETag": file.etag, "Last-Modified": file.lastModified, "Cache-Control": file.cacheControl,
        ]
        if let condition = request.headers["If-None-Match"], Self.matches(condition, etag: file.etag) {
            return HTTPResponse(status: 304, headers: headers)
        }
        headers.add("Content-Type", file.contentType)
        return HTTPResponse(status: 200, headers: headers, body: .bytes(file.bytes))
    }

    // MARK: - Helpers

    /// `If-None-Match` uses weak comparison: `W/"x"` matches `"x"`; `*` matches anything.
    static func matches(_ header: String, etag: String) -> Bool {
        for candidate in header.split(separator: ",") {
            var tag = candidate.trimmingSpaces
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            if tag == etag { return true }
        }
        return false
    }

    static func contentType(forPath path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "application/octet-stream" }
        let ext = name[name.index(after: dot)...].lowercased()
        switch ext {
        case "html", "htm": return "text/html; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "webp": return "image/webp"
        case "ico": return "image/x-icon"
        case "json": return "application/json; charset=utf-8"
        case "webmanifest": return "application/manifest+json"
        case "txt": return "text/plain; charset=utf-8"
        case "woff2": return "font/woff2"
        case "map": return "application/json; charset=utf-8"
        default: return "application/octet-stream"
        }
    }

    /// FNV-1a, 64 bit, as 16 hex digits.
    static func fnv1a64Hex(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// An IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func pad(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(days[Int(parts.tm_wday)]), \(pad(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)) GMT"
    }

    /// Regular files under `root` (recursively), as (relative, absolute) paths. Skips dotfiles and symlinks.
    static func listFiles(root: String) throws -> [(String, String)] {
        var info = stat()
        guard stat(root, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw HTTPServerError(.invalidConfiguration, "static root is not a directory: \(root)")
        }
        var result: [(String, String)] = []
        var pending: [String] = [""]
        while let relativeDirectory = pending.popLast() {
            let directory = relativeDirectory.isEmpty ? root : root + "/" + relativeDirectory
            guard let handle = opendir(directory) else {
                throw HTTPServerError(.invalidConfiguration, "cannot read static directory: \(directory)")
            }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name.hasPrefix(".") { continue }
                let relative = relativeDirectory.isEmpty ? name : relativeDirectory + "/" + name
                let absolute = root + "/" + relative
                var entryInfo = stat()
                guard lstat(absolute, &entryInfo) == 0 else { continue }
                switch entryInfo.st_mode & S_IFMT {
                case S_IFDIR: pending.append(relative)
                case S_IFREG: result.append((relative, absolute))
                default: continue
                }
            }
        }
        return result
    }

    /// The whole file and its modification time (seconds since 1970).
    static func read(_ path: String) throws -> ([UInt8], Int) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw HTTPServerError(.invalidConfiguration, "cannot open static file: \(path)") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw HTTPServerError(.invalidConfiguration, "cannot stat static file: \(path)")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            offset += count
        }
        if offset < bytes.count { bytes.removeSubrange(offset...) }
        return (bytes, Int(info.st_mtim.tv_sec))
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
