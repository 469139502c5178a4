import HerdProtocol

/// The streams a token may use: a list, or every stream (`*`).
public enum StreamGrant: Sendable, Hashable {
    case all
    case only(Set<StreamID>)

    /// Parses the command-line / stored form: `*` or stream ids.
    public init(_ values: [String]) throws(IdentityError) {
        if values.contains("*") {
            self = .all
            return
        }
        var ids = Set<StreamID>()
        for value in values {
            guard let id = StreamID(value) else { throw .invalidStream("'\(value)' is not a stream id ([A-Za-z0-9._-]{1,64}, not starting with a dot) or *") }
            ids.insert(id)
        }
        self = .only(ids)
    }

    public func allows(_ stream: StreamID) -> Bool {
        switch self {
        case .all: true
        case .only(let ids): ids.contains(stream)
        }
    }

    /// Stored form: `*` or the ids joined by commas, sorted.
    public var storedValue: String {
        switch self {
        case .all: "*"
        case .only(let ids): ids.sorted().map(\.rawValue).joined(separator: ",")
        }
    }

    init(storedValue: String) {
        if storedValue == "*" {
            self = .all
        } else {
            self = .only(Set(storedValue.split(separator: ",").compactMap { StreamID(String($0)) }))
        }
    }
}
