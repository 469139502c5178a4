/// What a token may do. Devices publish to their streams; inspectors watch theirs; auditors replay
/// recordings (with the recording issue); admins do everything.
public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
    case device
    case inspector
    case auditor
    case admin
}
