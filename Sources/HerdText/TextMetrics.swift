/// The extent of one line of text at one size, in pixels.
public struct TextMetrics: Sendable, Hashable {
    /// Advance width of the whole line.
    public var width: Double
    /// Height above the baseline (positive).
    public var ascent: Double
    /// Depth below the baseline (positive).
    public var descent: Double

    /// Ascent plus descent: the height a plate behind the text needs.
    public var height: Double { ascent + descent }
}
