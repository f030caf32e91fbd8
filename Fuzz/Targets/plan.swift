import PatrolCore
import PatrolCoverage

/// A patrol plan file (TOML, with a GeoJSON area outline it may name): arbitrary bytes through the
/// plan reader, which checks it as a whole. The bytes after the first 0x00 byte are the GeoJSON
/// file every `outline` key resolves to.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPlan(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let split = bytes.firstIndex(of: 0) ?? bytes.count
    let plan = String(decoding: bytes[..<split], as: UTF8.self)
    let geoJSON = split < bytes.count ? String(decoding: bytes[(split + 1)...], as: UTF8.self) : ""
    _ = try? PlanReader.read(plan, file: "plan.toml", readFile: { _ in geoJSON })
    return 0
}
