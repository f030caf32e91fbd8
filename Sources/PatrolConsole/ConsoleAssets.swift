import PatrolCore

/// The browser's files, compiled into the binary by SwiftPM (`resources: [.embedInCode("Assets")]`
/// in Package.swift): nothing to find or install at run time.
///
/// SwiftPM names each embedded file after its base name only (`PackageResources.leaflet_js`) and
/// keeps no list of them, so the URL path of each is listed here; `ConsoleAssetTests` checks the
/// list against the Assets folder, both ways. Adding a file to Assets means adding its line below,
/// and base names must be unique across the folder.
struct ConsoleAsset: Sendable {
    let path: String
    let contentType: String
    let bytes: [UInt8]
    /// The bytes deflated (`Content-Encoding: deflate`) when that makes them smaller; nil otherwise.
    let deflated: [UInt8]?
    /// A strong validator: the first 128 bits of the bytes' SHA-256.
    let etag: String

    init(_ path: String, _ bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
        contentType = Self.contentType(of: path)
        let compressed = Deflate.compress(bytes)
        deflated = Self.compressible(contentType) && compressed.count < bytes.count ? compressed : nil
        etag = "\"" + Hex.encode(Array(SHA256.hash(bytes).prefix(16))) + "\""
    }

    /// By URL path below `/console/assets/` (`index.html` is also served as `/console/`).
    static let all: [String: ConsoleAsset] = Dictionary(uniqueKeysWithValues: embedded.map { ($0.0, ConsoleAsset($0.0, $0.1)) })

    /// Every file of Sources/PatrolConsole/Assets, by its path in that folder.
    static let embedded: [(String, [UInt8])] = [
        ("index.html", PackageResources.index_html),
        ("console.css", PackageResources.console_css),
        ("console.js", PackageResources.console_js),
        ("datum.js", PackageResources.datum_js),
        ("i18n/en.json", PackageResources.en_json),
        ("i18n/zh-CN.json", PackageResources.zh_CN_json),
        ("vendor/leaflet/leaflet.js", PackageResources.leaflet_js),
        ("vendor/leaflet/leaflet.css", PackageResources.leaflet_css),
        ("vendor/leaflet/LICENSE", PackageResources.LICENSE),
        ("vendor/leaflet/README.md", PackageResources.README_md),
        ("vendor/leaflet/images/layers.png", PackageResources.layers_png),
        ("vendor/leaflet/images/layers-2x.png", PackageResources.layers_2x_png),
        ("vendor/leaflet/images/marker-icon.png", PackageResources.marker_icon_png),
        ("vendor/leaflet/images/marker-icon-2x.png", PackageResources.marker_icon_2x_png),
        ("vendor/leaflet/images/marker-shadow.png", PackageResources.marker_shadow_png),
    ]

    private static func contentType(of path: String) -> String {
        switch path.split(separator: ".").last.map({ $0.lowercased() }) {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "json": "application/json"
        case "png": "image/png"
        case "svg": "image/svg+xml"
        case "ico": "image/x-icon"
        case "wav": "audio/wav"
        case "mp3": "audio/mpeg"
        case "ogg": "audio/ogg"
        default: "application/octet-stream"
        }
    }

    private static func compressible(_ contentType: String) -> Bool {
        contentType.hasPrefix("text/") || contentType.hasPrefix("application/json") || contentType.hasPrefix("image/svg")
    }
}
