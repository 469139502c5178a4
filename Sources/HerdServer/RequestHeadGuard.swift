import HerdProtocol
import NIOCore
import NIOHTTP1

/// Answers what the HTTP decoder refuses, and a head that never completes, instead of leaving the
/// connection open and silent.
///
/// The WebSocket-upgrade pipeline turns off NIO's protocol error handling and installs Hummingbird's
/// handlers only after a first head has been read, so a head past the decoder's limits (about 80 KB)
/// or malformed bytes reached no handler: the client waited forever. This handler sits right after
/// the decoder for the connection's whole life and answers `431 Request Header Fields Too Large` (an
/// over-long head) or `400` (anything else the parser refuses) with the JSON error body, then closes.
/// It also bounds slowloris: a request head not complete within `headTimeout` of its first byte is
/// answered `408` and the connection closed. A connection that sends nothing (a browser's preconnect, a
/// client pool's idle keep-alive) is left to its client: closing those broke real clients that reuse
/// them. `ByteCounter`, ahead of the decoder, tells it whether bytes came. A WebSocket upgrade
/// request takes the guard out of the pipeline as it passes: what follows is WebSocket frames.
///
/// The close lingers: output is shut after the answer and the rest of the client's bytes are read and
/// discarded for up to `lingerTimeout`, so a client still sending its head reads the answer instead of
/// a reset. Handlers after the guard are told the input closed (the upgrade negotiation then ends as
/// for a client that hung up), and their own close waits for the linger. A head refused while an
/// earlier request on the connection is being answered is answered after that response.
final class RequestHeadGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let headTimeout: TimeAmount
    private let lingerTimeout: TimeAmount
    fileprivate var headDeadline: Scheduled<Void>?
    private var refused = false
    /// Between a request's head and its response's end the deadline does not run.
    fileprivate var inRequest = false
    /// Whether bytes of the next head have arrived (set by `ByteCounter`).
    fileprivate var headStarted = false
    /// A refusal waiting for the response in progress to end.
    private var pendingRefusal: (status: HTTPResponseStatus, code: String, message: String)?
    /// After a refusal: closes from later handlers wait until the linger ends.
    private var lingering = false
    private var heldCloses: [EventLoopPromise<Void>] = []

    init(headTimeout: TimeAmount, lingerTimeout: TimeAmount = .seconds(2)) {
        self.headTimeout = headTimeout
        self.lingerTimeout = lingerTimeout
    }

    /// This handler's own context, for the deadline armed from `ByteCounter`.
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        headDeadline?.cancel()
        headDeadline = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        headDeadline?.cancel()
        headDeadline = nil
        lingering = false
        for promise in heldCloses { promise.succeed() }
        heldCloses = []
        context.fireChannelInactive()
    }

    /// Graceful shutdown asks every connection to quiesce. One that has sent nothing since its last
    /// response (or nothing at all) is closed now: on a connection that never sent a head no Hummingbird
    /// handler is installed yet to hear the shutdown, and the server waited for such a connection for
    /// ever (SIGTERM with one idle preconnect never exited). A head under way is answered or runs into
    /// its deadline; a request in progress is left to finish.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, !inRequest, !headStarted, !refused, pendingRefusal == nil {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard lingering, mode == .all else { return context.close(mode: mode, promise: promise) }
        if let promise { heldCloses.append(promise) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused, pendingRefusal == nil else { return }
        guard case .head(let head) = unwrapInboundIn(data) else { return context.fireChannelRead(data) }
        inRequest = true
        headStarted = false
        headDeadline?.cancel()
        headDeadline = nil
        let upgrade = head.headers.contains(name: "upgrade")
        context.fireChannelRead(data)
        if upgrade {
            let operations = context.pipeline.syncOperations
            if let counter = try? operations.handler(type: ByteCounter.self) { operations.removeHandler(counter, promise: nil) }
            operations.removeHandler(context: context, promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data), inRequest else { return context.write(data, promise: promise) }
        inRequest = false
        context.write(data, promise: promise)
        if let refusal = pendingRefusal {
            pendingRefusal = nil
            refuse(context: context, status: refusal.status, code: refusal.code, message: refusal.message)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = Self.parserError(error) else { return context.fireErrorCaught(error) }
        // The decoder keeps reporting the bytes it discards after its error.
        guard !refused, pendingRefusal == nil else { return }
        let refusal: (status: HTTPResponseStatus, code: String, message: String) =
            parserError == .headerOverflow
            ? (.requestHeaderFieldsTooLarge, "headerTooLarge", "the request head is larger than the server accepts")
            : (.badRequest, "badRequest", "malformed HTTP request")
        if inRequest {
            pendingRefusal = refusal
        } else {
            refuse(context: context, status: refusal.status, code: refusal.code, message: refusal.message)
        }
    }

    private static func parserError(_ error: any Error) -> HTTPParserError? {
        if let error = error as? HTTPParserError { return error }
        if case .dataReceivedInErrorState(let inner, _)? = error as? ByteToMessageDecoderError { return inner as? HTTPParserError }
        return nil
    }

    fileprivate func armDeadline() {
        guard let context else { return }
        headDeadline?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        headDeadline = context.eventLoop.scheduleTask(in: headTimeout) {
            let (handler, context) = loopBound.value
            handler.headDeadline = nil
            guard !handler.inRequest, !handler.refused else { return }
            handler.refuse(context: context, status: .requestTimeout, code: "requestTimeout", message: "the request head did not arrive in time")
        }
    }

    /// Writes the answer, shuts output, and closes fully once the client stops sending or the linger ends.
    private func refuse(context: ChannelHandlerContext, status: HTTPResponseStatus, code: String, message: String) {
        refused = true
        headDeadline?.cancel()
        headDeadline = nil
        let body = WireJSON.encode(HTTPErrorBody(code: code, message: message))
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(body.count)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        lingering = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            let context = loopBound.value.1
            context.close(mode: .output, promise: nil)
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        context.eventLoop.scheduleTask(in: lingerTimeout) {
            let (handler, context) = loopBound.value
            handler.lingering = false
            context.close(promise: nil)
        }
    }
}

extension RequestHeadGuard {
    /// Ahead of the HTTP decoder: tells the guard that bytes of a head have arrived.
    final class ByteCounter: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        private let headGuard: RequestHeadGuard

        init(_ headGuard: RequestHeadGuard) {
            self.headGuard = headGuard
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            // Bytes while a request is open are its body (or pipelined, left to the decoder). The first
            // byte after a response starts the next head's deadline.
            if !headGuard.inRequest, !headGuard.headStarted {
                headGuard.headStarted = true
                if headGuard.headDeadline == nil { headGuard.armDeadline() }
            }
            context.fireChannelRead(data)
        }
    }

    /// Puts the guard after the connection's HTTP decoder and its byte counter before it.
    static func install(on channel: any Channel, headTimeout: TimeAmount) throws {
        let operations = channel.pipeline.syncOperations
        let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
        let headGuard = RequestHeadGuard(headTimeout: headTimeout)
        try operations.addHandler(headGuard, position: .after(decoder))
        try operations.addHandler(ByteCounter(headGuard), position: .before(decoder))
    }
}
