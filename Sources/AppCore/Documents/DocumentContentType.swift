/// The file types a claim document may be, decided by the file's first bytes (magic numbers), never by its name or
/// the browser's `Content-Type`.
public enum DocumentContentType: String, Sendable, CaseIterable, Codable {
    case pdf, jpeg, png, heic, webp

    /// The media type stored and sent back on download.
    public var mediaType: String {
        switch self {
        case .pdf: "application/pdf"
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .heic: "image/heic"
        case .webp: "image/webp"
        }
    }

    /// The extension given to stored names.
    public var fileExtension: String {
        switch self {
        case .pdf: "pdf"
        case .jpeg: "jpg"
        case .png: "png"
        case .heic: "heic"
        case .webp: "webp"
        }
    }

    /// File-name extensions (lowercase, no dot) that may name this type.
    public var extensions: Set<String> {
        switch self {
        case .pdf: ["pdf"]
        case .jpeg: ["jpg", "jpeg", "jpe", "jfif"]
        case .png: ["png"]
        case .heic: ["heic", "heif", "hif"]
        case .webp: ["webp"]
        }
    }

    /// Declared media types (lowercase, without parameters) that may describe this type.
    public var mediaTypes: Set<String> {
        switch self {
        case .pdf: ["application/pdf", "application/x-pdf"]
        case .jpeg: ["image/jpeg", "image/jpg", "image/pjpeg"]
        case .png: ["image/png", "image/x-png"]
        case .heic: ["image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"]
        case .webp: ["image/webp"]
        }
    }

    /// How many leading bytes ``sniff(_:)`` needs at most.
    public static let sniffLength = 32

    /// ISO-BMFF `ftyp` brands of HEIC/HEIF images (major or compatible).
    static let heifBrands: Set<String> = ["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "heif"]

    /// The type the content is, from its first bytes; nil when it is none of the allowed ones.
    public static func sniff(_ head: some Collection<UInt8>) -> DocumentContentType? {
        let bytes = Array(head.prefix(sniffLength))
        func starts(with magic: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + magic.count && Array(bytes[offset..<offset + magic.count]) == magic
        }
        if starts(with: Array("%PDF-".utf8)) { return .pdf }
        if starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(with: Array("RIFF".utf8)) && starts(with: Array("WEBP".utf8), at: 8) { return .webp }
        if starts(with: Array("ftyp".utf8), at: 4) {
            // Box size (big-endian) at 0, "ftyp", major brand, minor version, then compatible brands to the box end.
            let size = bytes.prefix(4).reduce(0) { $0 << 8 | Int($1) }
            let end = min(max(size, 16), bytes.count)
            var brands = [brand(bytes, at: 8)]
            var offset = 16
            while offset + 4 <= end {
                brands.append(brand(bytes, at: offset))
                offset += 4
            }
            if brands.contains(where: { heifBrands.contains($0) }) { return .heic }
        }
        return nil
    }

    private static func brand(_ bytes: [UInt8], at offset: Int) -> String {
        guard offset + 4 <= bytes.count else { return "" }
        return String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
    }

    /// Extensions of programs, scripts and active documents: a name ending so never describes an allowed type.
    static let dangerousExtensions: Set<String> = [
        "exe", "dll", "com", "bat", "cmd", "scr", "msi", "pif", "cpl", "sh", "bash", "ps1", "vbs", "js", "mjs",
        "jar", "apk", "app", "elf", "bin", "so", "dylib", "php", "py", "pl", "rb", "html", "htm", "xhtml", "svg",
        "xml", "hta", "lnk", "docm", "xlsm",
    ]

    /// Whether what the client declared (the name's extension, the part's `Content-Type`) agrees with this
    /// content. A missing extension or a generic type (`application/octet-stream`) says nothing and is accepted.
    public func agrees(withFileName name: String, declaredType: String?) -> Bool {
        if let dot = name.lastIndex(of: "."), name.index(after: dot) < name.endIndex {
            let ext = name[name.index(after: dot)...].lowercased()
            let knownExtensions = Set(Self.allCases.flatMap(\.extensions))
            // A name ending in another allowed type, or in something executable or scriptable, contradicts the
            // content; other endings (`стр.2`) say nothing.
            if !extensions.contains(ext), knownExtensions.contains(ext) || Self.dangerousExtensions.contains(ext) {
                return false
            }
        }
        if let declaredType {
            let media = String(declaredType.split(separator: ";").first ?? "").filter { $0 != " " }.lowercased()
            let generic: Set<String> = ["", "application/octet-stream", "binary/octet-stream"]
            if !generic.contains(media), !mediaTypes.contains(media) { return false }
        }
        return true
    }
}
