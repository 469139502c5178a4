/// The pixel size of the frame an annotation set refers to. A renderer scales the set when it draws on
/// a frame of another size (a scaled live view, a rotated upload).
public struct FrameSize: Sendable, Hashable, Codable {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}
