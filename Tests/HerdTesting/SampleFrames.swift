import Foundation

/// Locates the repository's SampleFrames/ for tests, from this source file's path.
public enum SampleFrames {
    /// The repository root (the folder holding Package.swift).
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    public static let root = repositoryRoot.appendingPathComponent("SampleFrames")

    /// Sorted file names in a SampleFrames subfolder whose names end in one of `extensions` (all if empty).
    public static func files(in folder: String, extensions: [String] = []) -> [String] {
        let dir = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { name in
            !name.hasPrefix(".") && (extensions.isEmpty || extensions.contains { name.hasSuffix($0) })
        }.sorted()
    }

    public static func url(_ folder: String, _ name: String) -> URL {
        root.appendingPathComponent(folder).appendingPathComponent(name)
    }

    /// The bytes of SampleFrames/folder/name.
    public static func bytes(_ folder: String, _ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(folder, name)))
    }

    /// Camera-sized frames (JPEG and PNG) in SampleFrames/frames.
    public static var frameNames: [String] { files(in: "frames", extensions: [".jpg", ".png"]) }

    /// Hostile files; each name starts with the expected error code, then `--`.
    public static var malformedNames: [String] { files(in: "malformed") }

    /// JPEGs other decoders open that once broke the coefficient path; each must compose (pixel path).
    public static var hostileNames: [String] { files(in: "hostile") }

    /// Codec variants (JPEG flavours, PNG bit depths and colour types).
    public static var variantNames: [String] { files(in: "variants") }
}
