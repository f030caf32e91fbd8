import PatrolUplink
/// Where an HTTP output connects: parsed from `url = "https://centre.example:8443"` (an optional
/// path prefix is kept, for a centre behind a reverse proxy).
public struct HTTPEndpoint: Sendable, Equatable {
    public var usesTLS: Bool
    public var host: String
    public var port: Int
    /// Prefix of every request target, "" or e.g. "/patrol".
    public var basePath: String

    /// Parses `url`; the error says what is wrong in words an installer understands.
    public init(url: String) throws(UplinkLinkError) {
        let scheme: String
        var rest: Substring
        if url.hasPrefix("https://") {
            (scheme, rest) = ("https", url.dropFirst(8))
        } else if url.hasPrefix("http://") {
            (scheme, rest) = ("http", url.dropFirst(7))
        } else {
            throw UplinkLinkError("'\(url)' must start with https:// (or http:// for a centre on this machine)")
        }
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
            while path.hasSuffix("/") { path.removeLast() }
        }
        var host = String(rest)
        var port = scheme == "https" ? 443 : 80
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw UplinkLinkError("'\(url)': unclosed '[' in the host") }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()), (1...65535).contains(value) else { throw UplinkLinkError("'\(url)': bad port") }
                port = value
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let value = Int(host[host.index(after: colon)...]), (1...65535).contains(value) else {
                throw UplinkLinkError("'\(url)': the port must be a number from 1 to 65535")
            }
            port = value
            host = String(host[..<colon])
        }
        guard !host.isEmpty else { throw UplinkLinkError("'\(url)' names no host") }
        usesTLS = scheme == "https"
        self.host = host
        self.port = port
        basePath = path
        // A device key signs requests but the body travels in clear: only this machine may see it.
        guard usesTLS || isLoopback else {
            throw UplinkLinkError("'\(url)': plain http is only allowed to this machine (127.0.0.1, ::1, localhost); use https://")
        }
    }

    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// `https://host:port/prefix`, for logs and status.
    public var description: String {
        "\(usesTLS ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host):\(port)\(basePath)"
    }
}
