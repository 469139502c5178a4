import Crypto
import Foundation

/// The server's Ed25519 signing key for checkpoints. Generated on first start into the data directory
/// (`keys/recording.key`, mode 0600) or read from a configured path. The key id is the first 16 hex
/// digits of SHA-256 of the raw public key, so manifests name the key that signed them and keys can be
/// rotated: older public keys are kept in `keys/trusted/<keyId>.pub`.
public struct RecordingKey: Sendable {
    private let privateRaw: [UInt8]
    public let publicKey: [UInt8]
    public let keyId: String

    var privateKey: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: privateRaw) }
    public var publicKeyBase64: String { Data(publicKey).base64EncodedString() }

    public init(privateKey: Curve25519.Signing.PrivateKey) {
        privateRaw = Array(privateKey.rawRepresentation)
        publicKey = Array(privateKey.publicKey.rawRepresentation)
        keyId = Self.keyId(publicKey: publicKey)
    }

    public static func keyId(publicKey: [UInt8]) -> String {
        SHA256.hash(data: publicKey).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    public func sign(_ bytes: [UInt8]) throws(RecordingError) -> [UInt8] {
        do {
            return Array(try privateKey.signature(for: bytes))
        } catch {
            throw .key("signing failed: \(error)")
        }
    }

    /// Loads the key at `path`, creating it (0600, directory 0700) when absent.
    public static func loadOrCreate(path: String) throws(RecordingError) -> RecordingKey {
        let fm = FileManager.default
        if let data = fm.contents(atPath: path) {
            guard let text = String(data: data, encoding: .utf8),
                let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
                let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            else { throw .key("\(path) is not a HerdLens recording key (base64 of a raw Ed25519 private key)") }
            return RecordingKey(privateKey: key)
        }
        let key = Curve25519.Signing.PrivateKey()
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let text = key.rawRepresentation.base64EncodedString() + "\n"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard fd >= 0 else { throw RecordingError.key("cannot create \(path): errno \(errno)") }
            defer { close(fd) }
            let written = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
            guard written == text.utf8.count, fsync(fd) == 0 else { throw RecordingError.key("cannot write \(path): errno \(errno)") }
        } catch let error as RecordingError {
            throw error
        } catch {
            throw .key("cannot create \(directory): \(error)")
        }
        return RecordingKey(privateKey: key)
    }
}

/// Public keys a verifier accepts, by key id.
public struct TrustedKeys: Sendable {
    /// Raw Ed25519 public keys by key id.
    public var keys: [String: [UInt8]]

    public init(_ keys: [Curve25519.Signing.PublicKey] = []) {
        var map: [String: [UInt8]] = [:]
        for key in keys { map[RecordingKey.keyId(publicKey: Array(key.rawRepresentation))] = Array(key.rawRepresentation) }
        self.keys = map
    }

    /// The current key's public half plus every `keys/trusted/*.pub` (base64 raw) in the data directory.
    public static func load(dataDirectory: String, current: RecordingKey?) -> TrustedKeys {
        var keys: [Curve25519.Signing.PublicKey] = []
        if let current { keys.append(current.privateKey.publicKey) }
        let dir = dataDirectory + "/keys/trusted"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasSuffix(".pub") {
            if let key = parsePublicKey(FileManager.default.contents(atPath: dir + "/" + name)) { keys.append(key) }
        }
        return TrustedKeys(keys)
    }

    public static func parsePublicKey(_ data: Data?) -> Curve25519.Signing.PublicKey? {
        guard let data, let text = String(data: data, encoding: .utf8),
            let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }

    public func isValid(signature: [UInt8], for bytes: [UInt8], keyId: String) -> Bool? {
        guard let raw = keys[keyId], let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return nil }
        return key.isValidSignature(signature, for: bytes)
    }
}
