import Foundation
import HTTPTypes
import HerdIdentity
import HerdMultipart
import HerdProtocol
import Hummingbird
import HummingbirdWebSocket
import NIOCore

extension HerdServices {
    /// Devices: frames over HTTP (multipart) and the ingest WebSocket. Both run the same accept stage
    /// (`IngestProcessor`) and answer only once a frame is durable.
    func addIngestRoutes(to router: Router<HerdRequestContext>) {
        let configuration = self.configuration, processor = self.processor, httpRate = self.httpRate, hub = self.hub
        let sockets = self.sockets, shutdown = self.shutdown, watch = self.watch
        router.post("/api/v1/streams/:stream/frames") { request, context -> Response in
            let identity = try context.requireIdentity()
            guard let stream = context.parameters.get("stream").flatMap(StreamID.init) else {
                throw HerdServerError(.badRequest, code: "invalidStream", message: "stream id must match [A-Za-z0-9._-]{1,64}, not starting with a dot")
            }
            guard identity.canPublish(to: stream) else { throw HerdServerError.forbidden("token \(identity.id) may not publish to stream \(stream)") }
            guard httpRate.allow(identity.id) else {
                processor.metrics.dropped("rate_limited")
                throw HerdServerError(
                    .tooManyRequests, code: "rateLimited", message: "more than \(Int(configuration.framesPerSecondPerDevice)) frames a second for this token",
                    retryAfterSeconds: 1, retryable: true)
            }
            guard let contentType = request.headers[.contentType], let boundary = MultipartForm.boundary(fromContentType: contentType) else {
                throw HerdServerError(.unsupportedMediaType, code: "unsupportedMediaType", message: "send multipart/form-data with parts 'metadata' and 'image'")
            }
            let limit = configuration.maxImageBytes + configuration.maxHeaderBytes + 16 * 1024
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: limit)
            } catch {
                throw HerdServerError(.contentTooLarge, code: "tooLarge", message: "request body over \(limit) bytes")
            }
            let form: MultipartForm
            do {
                form = try MultipartForm(parsing: Array(buffer: body), boundary: boundary)
            } catch {
                throw HerdServerError(.badRequest, code: "badMultipart", message: "\(error)")
            }
            guard let metadata = form.part("metadata"), let image = form.part("image") else {
                throw HerdServerError(.badRequest, code: "badMultipart", message: "parts 'metadata' and 'image' are both required")
            }
            guard metadata.body.count <= configuration.maxHeaderBytes else {
                throw HerdServerError(.contentTooLarge, code: "headerTooLarge", message: "metadata over \(configuration.maxHeaderBytes) bytes")
            }
            do {
                let headerBytes = metadata.body
                guard case .frame(let header) = try DeviceMessage.decode(headerBytes) else {
                    throw IngestFailure(code: "unknownType", message: "metadata must be a frame header", status: 400)
                }
                guard header.stream == stream else {
                    throw IngestFailure(code: "invalidStream", message: "metadata names stream \(header.stream), the URL \(stream)", status: 400)
                }
                let accepted = try await processor.frame(header, headerBytes: headerBytes, image: image.body, identity: identity)
                hub.touch(stream, lease: .milliseconds(Int(configuration.httpOnlineSeconds * 1000)))
                switch await accepted.settled() {
                case .success(let ack):
                    return jsonResponse(ack, status: ack.duplicate == true ? .ok : .created)
                case .failure(let failure):
                    throw failure
                }
            } catch let error as ProtocolError {
                throw HerdServerError(IngestFailure(error))
            } catch let failure as IngestFailure {
                throw HerdServerError(failure)
            }
        }

        router.ws("/api/v1/ingest") { _, context in
            let identity = try context.requireIdentity()
            guard identity.role == .device || identity.role == .admin else {
                throw HerdServerError.forbidden("a \(identity.role.rawValue) token may not publish frames")
            }
            guard sockets.acquire(identity.id) else {
                throw HerdServerError(.tooManyRequests, code: "tooManySockets", message: "token \(identity.id) already has \(configuration.maxSocketsPerToken) sockets open", retryable: true)
            }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let identity = context.requestContext.identity!
            defer { sockets.release(identity.id) }
            let session = DeviceSession(
                processor: processor, identity: identity, configuration: configuration, logger: context.logger, shutdown: shutdown,
                watch: watch)
            try await session.run(inbound: inbound, outbound: outbound)
        }
    }
}
