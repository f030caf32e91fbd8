import HTTPTypes
import Hummingbird
import NIOCore
import PatrolCore

/// A refusal the centre answers with a JSON body that names the problem:
/// `{"error": code, "message": …, "field": …, "offset": …, "centreTimeMs": …}`.
///
/// `code` is stable for programs (the agent reacts to `clock-skew` by correcting its offset from
/// `centreTimeMs`); `message` is for the person reading the log.
public struct CentreError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// The field of a malformed body (`track[12].lat`, `header.magic`) and its byte offset.
    public var field: String?
    public var offset: Int?
    /// Set on clock-skew refusals so a board without a real-time clock can fix its offset.
    public var centreTime: UTCTime?
    /// Sent as `Retry-After` on refusals a later try can overcome: load (`503`), too many in flight (`429`).
    public var retryAfterSeconds: Int?

    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil, offset: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.offset = offset
    }

    public var json: String {
        var object = JSONObjectWriter()
        object.add("error", code)
        object.add("message", message)
        if let field { object.add("field", field) }
        if let offset { object.add("offset", offset) }
        if let centreTime {
            object.add("centreTimeMs", centreTime.millisecondsSinceEpoch)
            object.add("centreTime", centreTime.iso8601)
        }
        return object.json
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }
}
