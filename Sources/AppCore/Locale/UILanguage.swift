/// The languages the person-facing texts come in. Russian is the default; English is chosen by the browser's
/// `Accept-Language` or the page's language switch (sent as `?lang=` or as the page's own `Accept-Language`).
public enum UILanguage: String, Sendable, CaseIterable, Codable {
    case ru
    case en

    /// The language for a request: an explicit `lang` parameter if it names a supported language, else the
    /// best supported entry of `Accept-Language` (by q-value, then order; `*` and unknown tags are skipped),
    /// else Russian.
    public static func negotiate(parameter: String? = nil, acceptLanguage: String?) -> UILanguage {
        if let parameter, let language = UILanguage(tag: parameter) { return language }
        guard let header = acceptLanguage else { return .ru }
        var best: (language: UILanguage, quality: Double, index: Int)?
        for (index, entry) in header.split(separator: ",").enumerated() {
            let parts = entry.split(separator: ";")
            guard let tag = parts.first, let language = UILanguage(tag: String(tag)) else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0].trimmingWhitespace() == "q" {
                    quality = Double(pair[1].trimmingWhitespace()) ?? 0
                }
            }
            guard quality > 0 else { continue }
            if best == nil || quality > best!.quality { best = (language, quality, index) }
        }
        return best?.language ?? .ru
    }

    /// `en`, `en-GB`, `EN_us` → English; `ru`, `ru-RU` → Russian; anything else → nil.
    public init?(tag: String) {
        let primary = tag.trimmingWhitespace().lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first
        guard let primary, let language = UILanguage(rawValue: String(primary)) else { return nil }
        self = language
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(self).trimmingWhitespace()
    }
}
