import HerdProtocol

/// Finds the animals in one frame. Implementations are values safe to call from any thread; they
/// keep no state between frames (the tracker does).
public protocol Detector: Sendable {
    /// The detections in `frame`: from its pixels (`frame.image`), from the boxes its device sent, or both.
    func detect(_ frame: DetectorInput) -> [Detection]
}

/// What a detector is given for one frame.
public struct DetectorInput: Sendable {
    /// The scaled decode; nil when the frame was not decoded for analysis.
    public var image: AnalysisImage?
    /// The boxes the device put in the frame header (edge-AI cameras).
    public var deviceBoxes: [BoxAnnotation]

    public init(image: AnalysisImage?, deviceBoxes: [BoxAnnotation] = []) {
        self.image = image
        self.deviceBoxes = deviceBoxes
    }
}

/// The device's own boxes, as sent: an edge-AI camera's detections stay first-class.
public struct DeviceBoxDetector: Detector {
    public init() {}

    public func detect(_ frame: DetectorInput) -> [Detection] {
        frame.deviceBoxes.filter { ($0.objectClass ?? "pig") == "pig" }.map {
            Detection(rect: $0.rect, confidence: $0.confidence ?? 1, source: .device)
        }
    }
}

/// Which detector a stream uses (its configuration's `detector`).
public enum DetectorChoice: String, Sendable, Codable, CaseIterable {
    /// The device's boxes when the frame carries any, the built-in detector otherwise.
    case auto
    case device
    case builtin
    case none

    public func detector(_ pen: PenDetector = PenDetector()) -> any Detector {
        switch self {
        case .auto: AutoDetector(pen: pen)
        case .device: DeviceBoxDetector()
        case .builtin: pen
        case .none: NoDetector()
        }
    }
}

struct AutoDetector: Detector {
    var pen: PenDetector
    func detect(_ frame: DetectorInput) -> [Detection] {
        frame.deviceBoxes.isEmpty ? pen.detect(frame) : DeviceBoxDetector().detect(frame)
    }
}

struct NoDetector: Detector {
    func detect(_ frame: DetectorInput) -> [Detection] { [] }
}
