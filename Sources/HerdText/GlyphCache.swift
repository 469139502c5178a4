/// Rendered glyphs by (face, pixel size, glyph index). Bounded: past `capacity` entries it starts over,
/// which costs a re-render of the glyphs in use but never grows without limit.
struct GlyphCache {
    struct Key: Hashable {
        var face: Int
        var size: Int32
        var glyph: UInt32
    }

    let capacity: Int
    private var glyphs: [Key: Glyph] = [:]
    private(set) var hits = 0
    private(set) var misses = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { glyphs.count }

    mutating func glyph(_ key: Key, render: () throws(FontError) -> Glyph) throws(FontError) -> Glyph {
        if let glyph = glyphs[key] {
            hits += 1
            return glyph
        }
        misses += 1
        let glyph = try render()
        if glyphs.count >= capacity { glyphs.removeAll(keepingCapacity: true) }
        glyphs[key] = glyph
        return glyph
    }
}
