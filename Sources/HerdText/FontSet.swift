import Foundation

/// Where a renderer finds its fonts: a primary face for Latin text and fallbacks (CJK) tried in order
/// for characters the primary lacks.
public struct FontSet: Sendable, Hashable {
    public struct Source: Sendable, Hashable {
        public var path: String
        public var index: Int

        public init(path: String, index: Int = 0) {
            self.path = path
            self.index = index
        }
    }

    public var primary: Source
    public var fallbacks: [Source]

    public init(primary: Source, fallbacks: [Source] = []) {
        self.primary = primary
        self.fallbacks = fallbacks
    }

    /// DejaVu Sans (Debian fonts-dejavu-core) as primary.
    public static let dejaVuCandidates = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/local/share/fonts/DejaVuSans.ttf",
    ]

    /// CJK faces from Debian fonts-wqy-zenhei or fonts-noto-cjk, when installed.
    public static let cjkCandidates = [
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/arphic/uming.ttc",
    ]

    /// DejaVu Sans plus the first installed CJK face; `HERDLENS_FONT` overrides the primary path.
    public static func systemDefault(environment: [String: String] = ProcessInfo.processInfo.environment) throws(FontError)
        -> FontSet
    {
        let fm = FileManager.default
        let primaryPath: String
        if let override = environment["HERDLENS_FONT"], !override.isEmpty {
            primaryPath = override
        } else if let found = dejaVuCandidates.first(where: { fm.isReadableFile(atPath: $0) }) {
            primaryPath = found
        } else {
            throw .notFound("DejaVu Sans not found (apt-get install fonts-dejavu-core, or set HERDLENS_FONT)")
        }
        let cjk = cjkCandidates.filter { fm.isReadableFile(atPath: $0) }.prefix(1).map { Source(path: $0) }
        return FontSet(primary: Source(path: primaryPath), fallbacks: Array(cjk))
    }
}
