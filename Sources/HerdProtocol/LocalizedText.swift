/// A message in the three languages of the console: English, Simplified and Traditional Chinese.
public struct LocalizedText: Sendable, Hashable, Codable {
    public var en: String
    public var zhHans: String
    public var zhHant: String

    public init(en: String, zhHans: String, zhHant: String) {
        self.en = en
        self.zhHans = zhHans
        self.zhHant = zhHant
    }

    enum CodingKeys: String, CodingKey {
        case en
        case zhHans = "zh-Hans"
        case zhHant = "zh-Hant"
    }
}
