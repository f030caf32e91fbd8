import PatrolCore

/// A request body from the network, as the centre takes it: arbitrary bytes through the batch
/// decoder (header, deflate, varint columns, strings) and the per-record checks. A batch that
/// decodes must encode again, deflated or not, to a body that decodes to the same batch.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUplinkBatch(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    // The centre's limits, smaller for the inflated size so one run cannot take the fuzzer's memory.
    var limits = UplinkLimits()
    limits.maxDecodedBytes = min(limits.maxDecodedBytes, 1 << 20)
    guard let batch = try? UplinkBatch.decode(body, limits: limits) else { return 0 }
    for point in batch.trackPoints where point.problem == nil { _ = point.trackPoint }
    for event in batch.events { _ = event.problem }
    for deflate in [false, true] {
        let again = try? UplinkBatch.decode(batch.encoded(deflate: deflate))
        check(again == batch, "batch does not survive encoding (deflate: \(deflate)): \(batch)")
    }
    return 0
}
