import Foundation
import HerdProtocol

/// Labelled frames in the CSV format of ../shared/frames/ground_truth.csv: a header row naming at
/// least `file`, `pig_count` and `boxes_xyxy_px` (boxes `x0,y0,x1,y1;…` in pixels, quoted); an empty
/// `boxes_xyxy_px` means the frame is scored on its count alone, an empty `pig_count` too means it
/// has no truth.
public struct GroundTruth: Sendable {
    public struct Frame: Sendable, Hashable {
        public var file: String
        public var count: Int?
        public var boxes: [PixelRect]?
    }

    public var frames: [Frame]

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(csv text: String) throws {
        let rows = Self.rows(text)
        guard let header = rows.first else { throw ParseError(description: "empty CSV") }
        guard let file = header.firstIndex(of: "file"), let boxes = header.firstIndex(of: "boxes_xyxy_px") else {
            throw ParseError(description: "the header needs file and boxes_xyxy_px columns")
        }
        let count = header.firstIndex(of: "pig_count")
        var frames: [Frame] = []
        for (number, row) in rows.dropFirst().enumerated() where !(row.count == 1 && row[0].isEmpty) {
            guard row.count > max(file, boxes) else { throw ParseError(description: "row \(number + 2): too few columns") }
            let countText = count.flatMap { $0 < row.count ? row[$0] : nil } ?? ""
            var frame = Frame(file: row[file], count: nil, boxes: nil)
            if !countText.isEmpty {
                guard let n = Int(countText), n >= 0 else { throw ParseError(description: "row \(number + 2): pig_count \(countText) is not a count") }
                frame.count = n
            }
            let boxText = row[boxes].trimmingCharacters(in: .whitespaces)
            if !boxText.isEmpty {
                frame.boxes = try boxText.split(separator: ";").map { box in
                    let v = box.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                    guard v.count == 4, v[2] > v[0], v[3] > v[1] else { throw ParseError(description: "row \(number + 2): bad box \(box)") }
                    return PixelRect(x: v[0], y: v[1], width: v[2] - v[0], height: v[3] - v[1])
                }
            }
            frames.append(frame)
        }
        self.frames = frames
    }

    /// RFC 4180 rows: quoted fields may hold commas, doubled quotes and line breaks.
    static func rows(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text.replacingOccurrences(of: "\r\n", with: "\n")).makeIterator()
        while let c = chars.next() {
            if quoted {
                if c == "\"" {
                    if let n = chars.next() {
                        if n == "\"" { field.append("\"") } else {
                            quoted = false
                            if n == "," { row.append(field); field = "" } else if n == "\n" { row.append(field); rows.append(row); row = []; field = "" } else { field.append(n) }
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == "," {
                row.append(field)
                field = ""
            } else if c == "\n" {
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else {
                field.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }
}
