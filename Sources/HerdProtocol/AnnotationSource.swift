/// Who made an annotation (v1.3, additive): the device that sent it, the built-in detector, the
/// tracker (boxes carrying a confirmed track id), a rule (zones, counting lines, the HUD, alert
/// banners, all derived from the stream's configuration and sensors), or an inspector's mark.
public enum AnnotationSource: String, Sendable, Hashable, Codable, CaseIterable {
    case device, detector, tracker, rule, inspector
}
