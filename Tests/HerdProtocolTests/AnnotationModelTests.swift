import Foundation
import HerdProtocol
import HerdTesting
import Testing

@Suite("Annotation model", .timeLimit(.minutes(3)))
struct AnnotationModelTests {
    static let examples = SampleFrames.repositoryRoot.appendingPathComponent("Protocol/v1/examples")

    static var validNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: examples.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
    }

    static var invalidNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: examples.appendingPathComponent("invalid").path)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted()
    }

    @Test("golden examples decode and survive a round trip", arguments: validNames)
    func golden(name: String) throws {
        let data = try Data(contentsOf: Self.examples.appendingPathComponent(name))
        let set = try AnnotationSet.decode(json: data)
        #expect(!set.items.isEmpty)
        let again = try AnnotationSet.decode(json: set.encodedJSON())
        #expect(again == set)
    }

    @Test("invalid examples are refused with their code", arguments: invalidNames)
    func invalid(name: String) throws {
        let data = try Data(contentsOf: Self.examples.appendingPathComponent("invalid").appendingPathComponent(name))
        let expected = String(name.split(separator: "-", maxSplits: 1)[0])
        do {
            _ = try AnnotationSet.decode(json: data)
            Issue.record("\(name) was accepted")
        } catch {
            #expect(error.code == expected, "\(name): \(error)")
            #expect(!error.message.isEmpty)
        }
    }

    @Test("SampleFrames annotation sidecars decode", arguments: SampleFrames.files(in: "frames", extensions: [".annotations.json"]))
    func sidecars(name: String) throws {
        let set = try AnnotationSet.decode(json: Data(contentsOf: SampleFrames.url("frames", name)))
        #expect(set.frame.width >= 1280)
        #expect(set.items.contains { $0.kind == "hud" })
    }

    @Test("encoding is camelCase with a kind discriminator")
    func wireShape() throws {
        let set = AnnotationSet(frame: FrameSize(width: 10, height: 10), items: [
            .box(BoxAnnotation(rect: PixelRect(x: 1, y: 2, width: 3, height: 4), objectClass: "pig", trackId: 7)),
            .point(PointAnnotation(at: PixelPoint(x: 5, y: 6), shape: .dot)),
        ])
        let json = String(decoding: set.encodedJSON(), as: UTF8.self)
        #expect(json.contains(#""kind":"box""#) && json.contains(#""class":"pig""#) && json.contains(#""trackId":7"#))
        #expect(json.contains(#""at":[5,6]"#))
    }

    @Test("identity is optional and additive: id and source round-trip on every kind, old payloads decode without them")
    func identity() throws {
        let set = try AnnotationSet.decode(json: Data(contentsOf: Self.examples.appendingPathComponent("annotations-identified.json")))
        #expect(Set(set.items.compactMap(\.source)) == Set(AnnotationSource.allCases))
        #expect(set.items.map(\.id) == ["line-ramp", "zone-pen-a", "track-12", nil, "cam-7", "mark-3", "hud", "alert-a-0001"])
        let old = try AnnotationSet.decode(json: Data(contentsOf: Self.examples.appendingPathComponent("annotations-all-kinds.json")))
        #expect(old.items.allSatisfy { $0.id == nil && $0.source == nil })
        // Set on every kind, then encoded and decoded again.
        let marked = AnnotationSet(frame: old.frame, items: old.items.enumerated().map { $1.identified("item-\($0)", source: .rule) })
        let again = try AnnotationSet.decode(json: marked.encodedJSON())
        #expect(again == marked && again.items.count == old.items.count)
        #expect(again.items.enumerated().allSatisfy { $1.id == "item-\($0)" && $1.source == .rule })
        #expect(Set(again.items.map(\.kind)).count == 8)
        // Ids name zones in any script.
        let chinese = #"{"version":1,"frame":{"width":10,"height":10},"items":[{"kind":"polygon","points":[[0,0],[5,0],[5,5]],"id":"zone-猪圈A","source":"rule"}]}"#
        #expect(try AnnotationSet.decode(json: Data(chinese.utf8)).items[0].id == "zone-猪圈A")
        // An id of nil keeps the one there.
        #expect(again.items[0].identified(nil, source: .tracker).id == "item-0")
        for bad in ["", String(repeating: "a", count: 129), "a b", "a/b", "tab\\there"] {
            let json = #"{"version":1,"frame":{"width":10,"height":10},"items":[{"kind":"text","at":[1,1],"text":"x","id":"\#(bad)"}]}"#
            #expect(throws: AnnotationError.self, "\(bad)") { try AnnotationSet.decode(json: Data(json.utf8)) }
        }
    }

    @Test("limits are enforced")
    func limits() {
        var limits = AnnotationSet.Limits()
        limits.maxItems = 2
        let set = AnnotationSet(frame: FrameSize(width: 10, height: 10), items: Array(repeating: .alert(AlertAnnotation(severity: .info, message: "x")), count: 3))
        #expect(throws: AnnotationError.invalidAnnotation("")) { try set.validate(limits: limits) }
        let long = AnnotationSet(frame: FrameSize(width: 10, height: 10), items: [.text(TextAnnotation(at: PixelPoint(x: 0, y: 0), text: String(repeating: "猪", count: 2000)))])
        #expect(throws: AnnotationError.invalidAnnotation("")) { try long.validate() }
        #expect(Severity.info < Severity.critical)
    }
}
