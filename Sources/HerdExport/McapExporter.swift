import Foundation
import HerdProtocol
import HerdRecording

/// A session (or a consignment's sessions) as MCAP for Foxglove: per stream, `/<stream>/image`
/// (`foxglove.CompressedImage`, the original bytes), `/<stream>/annotations`
/// (`foxglove.ImageAnnotations`: boxes, lines, points, texts as the overlay drew them), and JSON channels
/// `/<stream>/sensors` (telemetry as received), `/<stream>/alerts`, `/<stream>/events` (session
/// events, refusals, signed checkpoints) and `/<stream>/inspector` (inspector actions: marks placed,
/// cleared and acknowledged by the field, alerts acknowledged). Log time is the server's receive time, publish time the
/// device's capture time. One pass over the segments; memory is one chunk.
public struct McapExporter {
    public let reader: SessionReader

    public init(reader: SessionReader) {
        self.reader = reader
    }

    static let imageSchema = #"{"title":"foxglove.CompressedImage","type":"object","properties":{"timestamp":{"type":"object","properties":{"sec":{"type":"integer","minimum":0},"nsec":{"type":"integer","minimum":0,"maximum":999999999}}},"frame_id":{"type":"string"},"data":{"type":"string","contentEncoding":"base64"},"format":{"type":"string"}}}"#
    static let annotationsSchema = #"{"title":"foxglove.ImageAnnotations","type":"object","properties":{"circles":{"type":"array"},"points":{"type":"array","items":{"type":"object","properties":{"timestamp":{"type":"object"},"type":{"type":"integer"},"points":{"type":"array","items":{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"}}}},"outline_color":{"type":"object"},"outline_colors":{"type":"array"},"fill_color":{"type":"object"},"thickness":{"type":"number"}}}},"texts":{"type":"array","items":{"type":"object","properties":{"timestamp":{"type":"object"},"position":{"type":"object"},"text":{"type":"string"},"font_size":{"type":"number"},"text_color":{"type":"object"},"background_color":{"type":"object"}}}}}}"#

    private struct Time: Encodable {
        var sec: UInt64
        var nsec: UInt64
        init(_ ns: UInt64) {
            sec = ns / 1_000_000_000
            nsec = ns % 1_000_000_000
        }
    }

    private struct Color: Encodable {
        var r: Double, g: Double, b: Double, a: Double
        static let green = Color(r: 0.2, g: 0.9, b: 0.3, a: 1)
        static let clear = Color(r: 0, g: 0, b: 0, a: 0)
        static let shade = Color(r: 0, g: 0, b: 0, a: 0.6)
        static let white = Color(r: 1, g: 1, b: 1, a: 1)

        init(r: Double, g: Double, b: Double, a: Double) {
            (self.r, self.g, self.b, self.a) = (r, g, b, a)
        }

        /// `#rrggbb` or `#rrggbbaa`, else green.
        init(hex: String?) {
            guard let hex, hex.hasPrefix("#"), hex.count == 7 || hex.count == 9, let v = UInt64(hex.dropFirst(), radix: 16) else {
                self = .green
                return
            }
            let rgba = hex.count == 7 ? v << 8 | 0xFF : v
            self.init(r: Double(rgba >> 24 & 0xFF) / 255, g: Double(rgba >> 16 & 0xFF) / 255, b: Double(rgba >> 8 & 0xFF) / 255, a: Double(rgba & 0xFF) / 255)
        }
    }

    private struct Point: Encodable { var x: Double; var y: Double }

    private struct PointsAnnotation: Encodable {
        var timestamp: Time
        var type: Int
        var points: [Point]
        var outline_color: Color
        var outline_colors: [Color] = []
        var fill_color: Color
        var thickness: Double
    }

    private struct TextItem: Encodable {
        var timestamp: Time
        var position: Point
        var text: String
        var font_size: Double
        var text_color: Color
        var background_color: Color
    }

    private struct Circle: Encodable {
        var timestamp: Time
        var position: Point
        var diameter: Double
        var thickness: Double
        var fill_color: Color
        var outline_color: Color
    }

    private struct ImageAnnotations: Encodable {
        var circles: [Circle] = []
        var points: [PointsAnnotation] = []
        var texts: [TextItem] = []
    }

    /// `foxglove.CompressedImage` as JSON, written directly: the base64 payload needs no escaping, and
    /// passing megabytes of it through `JSONEncoder` (which checks every character) was most of the
    /// export's time. The same bytes `WireJSON` would write (keys sorted).
    static func compressedImage(at ns: UInt64, frameID: String, image: [UInt8], format: String) -> [UInt8] {
        let time = Time(ns)
        var out = Array(#"{"data":""#.utf8)
        out.append(contentsOf: Data(image).base64EncodedData())
        out.append(contentsOf: Array(#"","format":"#.utf8))
        out.append(contentsOf: WireJSON.encode(format))
        out.append(contentsOf: Array(#","frame_id":"#.utf8))
        out.append(contentsOf: WireJSON.encode(frameID))
        out.append(contentsOf: Array(#","timestamp":{"nsec":\#(time.nsec),"sec":\#(time.sec)}}"#.utf8))
        return out
    }

    private struct Channels {
        var image: UInt16, annotations: UInt16, sensors: UInt16, alerts: UInt16, events: UInt16, inspector: UInt16
    }

    /// Session events that are an inspector's (or the field's answer to one): also on `/<stream>/inspector`.
    static let inspectorEvents: Set<String> = ["mark", "mark.clear", "mark.ack", "alert.acknowledged"]

    public func export(sessions: [SessionRow], to sink: ExportSink, cancelled: () -> Bool = { false }) throws -> ExportSummary {
        let mcap = try McapWriter(sink: sink, profile: "", library: "herdlens-export/1")
        let image = try mcap.addSchema(name: "foxglove.CompressedImage", jsonSchema: Self.imageSchema)
        let annotations = try mcap.addSchema(name: "foxglove.ImageAnnotations", jsonSchema: Self.annotationsSchema)
        let telemetry = try mcap.addSchema(name: "herdlens.Telemetry", jsonSchema: #"{"title":"herdlens.Telemetry","type":"object"}"#)
        let alert = try mcap.addSchema(name: "herdlens.Alerts", jsonSchema: #"{"title":"herdlens.Alerts","type":"object"}"#)
        let event = try mcap.addSchema(name: "herdlens.SessionEvent", jsonSchema: #"{"title":"herdlens.SessionEvent","type":"object"}"#)
        let action = try mcap.addSchema(name: "herdlens.InspectorAction", jsonSchema: #"{"title":"herdlens.InspectorAction","type":"object"}"#)
        var byStream: [String: Channels] = [:]
        for stream in Set(sessions.map(\.stream)).sorted() {
            let meta = ["stream": stream]
            byStream[stream] = Channels(
                image: try mcap.addChannel(topic: "/\(stream)/image", schema: image, metadata: meta),
                annotations: try mcap.addChannel(topic: "/\(stream)/annotations", schema: annotations, metadata: meta),
                sensors: try mcap.addChannel(topic: "/\(stream)/sensors", schema: telemetry, metadata: meta),
                alerts: try mcap.addChannel(topic: "/\(stream)/alerts", schema: alert, metadata: meta),
                events: try mcap.addChannel(topic: "/\(stream)/events", schema: event, metadata: meta),
                inspector: try mcap.addChannel(topic: "/\(stream)/inspector", schema: action, metadata: meta))
        }
        var summary = ExportSummary(format: "mcap", sessions: sessions.map(\.id), frames: 0, records: 0, entries: 0, bytes: 0)
        for session in sessions {
            let channels = byStream[session.stream]!
            /// The last frame's seq and times: its annotations record follows it.
            var lastFrame: (seq: UInt64, log: UInt64, publish: UInt64)?
            var lastLog = UInt64(max(0, session.startedAtMicros)) * 1000
            try reader.records(of: session) { record in
                if cancelled() { throw ExportError.cancelled() }
                summary.records += 1
                switch record.knownKind {
                case .frame:
                    guard let meta = try? JSONDecoder().decode(FrameMeta.self, from: Data(record.meta)), record.blobs.count >= 2 else { return }
                    let log = Self.nanos(meta.receivedAt) ?? lastLog
                    let publish = Self.nanos(meta.capturedAt) ?? log
                    lastLog = log
                    lastFrame = (meta.seq, log, publish)
                    let format = meta.format == "png" ? "png" : "jpeg"
                    let message = Self.compressedImage(at: publish, frameID: session.stream, image: record.blobs[1], format: format)
                    try mcap.add(channel: channels.image, logTime: log, publishTime: publish, data: message)
                    summary.frames += 1
                case .annotations:
                    guard let meta = try? JSONDecoder().decode(AnnotationsMeta.self, from: Data(record.meta)) else { return }
                    let (log, publish) = lastFrame.flatMap { $0.seq == meta.seq ? ($0.log, $0.publish) : nil } ?? (lastLog, lastLog)
                    try mcap.add(channel: channels.annotations, logTime: log, publishTime: publish, data: WireJSON.encode(Self.foxglove(meta.annotations, at: publish)))
                    if let alerts = meta.alerts, !alerts.isEmpty {
                        struct Alerts: Encodable { var seq: UInt64; var alerts: [AlertAnnotation] }
                        try mcap.add(channel: channels.alerts, logTime: log, publishTime: publish, data: WireJSON.encode(Alerts(seq: meta.seq, alerts: alerts)))
                    }
                case .telemetry:
                    let received = (try? JSONDecoder().decode(TelemetryMeta.self, from: Data(record.meta))).flatMap { Self.nanos($0.receivedAt) } ?? lastLog
                    lastLog = max(lastLog, received)
                    let message = record.blobs.first.flatMap { (try? StrictJSON.check($0)) != nil ? $0 : nil } ?? Array("{}".utf8)
                    try mcap.add(channel: channels.sensors, logTime: received, publishTime: received, data: message)
                case .sessionOpened, .event, .refusal, .sessionClosed, .checkpoint:
                    var line = Array(#"{"index":\#(record.index),"kind":"\#(record.knownKind!.name)","meta":"#.utf8) + record.meta
                    if record.knownKind == .checkpoint, let manifest = record.blobs.first, Self.isJSON(String(decoding: manifest, as: UTF8.self)) {
                        line += Array(#","manifest":"#.utf8) + manifest + Array(#","signature":""#.utf8) + Array((record.blobs.count > 1 ? Data(record.blobs[1]).base64EncodedString() : "").utf8) + [UInt8(ascii: "\"")]
                    }
                    line.append(UInt8(ascii: "}"))
                    try mcap.add(channel: channels.events, logTime: lastLog, publishTime: lastLog, data: line)
                    if record.knownKind == .event, let meta = try? JSONDecoder().decode(EventMeta.self, from: Data(record.meta)),
                        Self.inspectorEvents.contains(meta.event), let detail = meta.detail, Self.isJSON(detail)
                    {
                        let action = #"{"event":"\#(meta.event)","index":\#(record.index),"detail":"# + detail + "}"
                        try mcap.add(channel: channels.inspector, logTime: lastLog, publishTime: lastLog, data: Array(action.utf8))
                    }
                default:
                    break
                }
            }
        }
        try mcap.finish()
        summary.bytes = mcap.bytesWritten
        return summary
    }

    /// Well-formed strict JSON (`StrictJSON.check` returns the `type`, which a detail may not have).
    static func isJSON(_ text: String) -> Bool {
        do {
            _ = try StrictJSON.check(Array(text.utf8))
            return true
        } catch {
            return false
        }
    }

    static func nanos(_ text: String) -> UInt64? {
        guard let t = try? Timestamp(parsing: text), t.secondsSince1970 >= 0 else { return nil }
        return UInt64((t.secondsSince1970 * 1_000_000).rounded()) * 1000
    }

    private static func foxglove(_ set: AnnotationSet, at ns: UInt64) -> ImageAnnotations {
        var out = ImageAnnotations()
        let t = Time(ns)
        func shape(_ type: Int, _ points: [PixelPoint], _ style: AnnotationStyle?, label: String?, at anchor: PixelPoint?) {
            out.points.append(PointsAnnotation(
                timestamp: t, type: type, points: points.map { Point(x: $0.x, y: $0.y) }, outline_color: Color(hex: style?.stroke),
                fill_color: style?.fill.map { Color(hex: $0) } ?? .clear, thickness: style?.strokeWidth ?? 2))
            if let label, let anchor {
                out.texts.append(TextItem(
                    timestamp: t, position: Point(x: anchor.x, y: anchor.y), text: label, font_size: style?.fontSize ?? 14, text_color: .white,
                    background_color: .shade))
            }
        }
        for item in set.items {
            switch item {
            case .box(let b):
                let r = b.rect
                let corners = [PixelPoint(x: r.x, y: r.y), PixelPoint(x: r.x + r.width, y: r.y), PixelPoint(x: r.x + r.width, y: r.y + r.height), PixelPoint(x: r.x, y: r.y + r.height)]
                let label = [b.label, b.trackId.map { "#\($0)" }, b.confidence.map { String(format: "%.2f", $0) }].compactMap { $0 }.joined(separator: " ")
                shape(2, corners, b.style, label: label.isEmpty ? nil : label, at: corners[0])
            case .polygon(let p): shape(2, p.points, p.style, label: p.label, at: p.points.first)
            case .polyline(let p): shape(3, p.points, p.style, label: p.label, at: p.points.first)
            case .point(let p):
                if let radius = p.radius {
                    out.circles.append(Circle(
                        timestamp: t, position: Point(x: p.at.x, y: p.at.y), diameter: radius * 2, thickness: p.style?.strokeWidth ?? 2,
                        fill_color: .clear, outline_color: Color(hex: p.style?.stroke)))
                    if let label = p.label {
                        out.texts.append(TextItem(
                            timestamp: t, position: Point(x: p.at.x + radius * 0.7, y: p.at.y - radius * 0.7), text: label, font_size: p.style?.fontSize ?? 14,
                            text_color: .white, background_color: .shade))
                    }
                } else {
                    shape(1, [p.at], p.style, label: p.label, at: p.at)
                }
            case .arrow(let a): shape(4, [a.from, a.to], a.style, label: a.label, at: a.from)
            case .text(let x):
                out.texts.append(TextItem(
                    timestamp: t, position: Point(x: x.at.x, y: x.at.y), text: x.text, font_size: x.style?.fontSize ?? 14,
                    text_color: Color(hex: x.style?.text ?? "#ffffff"), background_color: .shade))
            case .hud, .alert:
                break
            }
        }
        return out
    }
}
