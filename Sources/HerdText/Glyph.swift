/// A rendered glyph: coverage bitmap plus placement relative to the pen on the baseline.
struct Glyph {
    var width: Int
    var height: Int
    /// Offset from the pen to the bitmap's left edge.
    var left: Int
    /// Offset from the baseline up to the bitmap's top edge.
    var top: Int
    /// Pen advance in pixels.
    var advance: Double
    var coverage: [UInt8]
}
