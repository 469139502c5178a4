import Foundation
import HerdProtocol

// The JSON `meta` of each record kind, version 1. Only added to (new optional fields), never changed:
// recordings outlive the code that wrote them.

/// `sessionOpened`.
public struct SessionOpenedMeta: Codable, Sendable, Hashable {
    public var session: String
    public var stream: String
    public var startedAt: String
    public var consignment: Consignment?
    /// `device`, `api` (an inspector or admin) or `firstFrame`.
    public var openedBy: String
    public var software: String
    /// The overlay renderer that drew the live view (`herdlens-overlay/1`): replay composes with it.
    public var renderer: String?
}

/// `frame`: blob 0 is the header JSON as received, blob 1 the image as received.
public struct FrameMeta: Codable, Sendable, Hashable {
    public var stream: String
    public var seq: UInt64
    public var capturedAt: String
    public var receivedAt: String
    /// SHA-256 of the image bytes (hex), the key of deduplication.
    public var imageSHA256: String
    public var format: String?
    public var width: Int?
    public var height: Int?
    /// Arrived long after capture, or after a later seq (store-and-forward).
    public var late: Bool?
    /// Received after the session had closed: part of an addendum.
    public var addendum: Bool?
}

/// `annotations`: what the pipeline drew or would draw for a frame.
public struct AnnotationsMeta: Codable, Sendable, Hashable {
    public var seq: UInt64
    public var annotations: AnnotationSet
    public var alerts: [AlertAnnotation]?
}

/// `telemetry`: blob 0 is the message as received.
public struct TelemetryMeta: Codable, Sendable, Hashable {
    public var receivedAt: String
}

/// `refusal`: a frame or message the server refused.
public struct RefusalMeta: Codable, Sendable, Hashable {
    public var receivedAt: String
    public var seq: UInt64?
    public var code: String
    public var message: String
}

/// `event`: consignment changes, session messages, faults after an ack.
public struct EventMeta: Codable, Sendable, Hashable {
    public var at: String
    public var event: String
    public var seq: UInt64?
    public var detail: String?
    public var consignment: Consignment?
}

/// `sessionClosed`.
public struct SessionClosedMeta: Codable, Sendable, Hashable {
    public var at: String
    /// `device`, `api`, `idle`, `shutdown`, `recovered` (the server stopped without closing it).
    public var reason: String
    public var note: String?
}

/// `checkpoint`: blob 0 is the manifest JSON, blob 1 its Ed25519 signature.
public struct CheckpointMeta: Codable, Sendable, Hashable {
    public var keyId: String
}

enum Meta {
    static func encode(_ value: some Encodable) -> [UInt8] { WireJSON.encode(value) }
    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> T? { try? JSONDecoder().decode(T.self, from: Data(bytes)) }
}
