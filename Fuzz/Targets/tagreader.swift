import PatrolCore

/// A checkpoint tag reader's serial line, in both formats: arbitrary bytes must decode without
/// trapping, and a tag id that comes out must be the digits that were read, nothing else.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTagReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    for format in TagReaderFormat.allCases {
        var decoder = TagReaderDecoder(format: format)
        for tag in decoder.receive(bytes) {
            let digits = format == .decimal ? Array("0123456789".utf8) : Array("0123456789ABCDEF".utf8)
            let length = tag.text.utf8.count
            check(tag.text.utf8.allSatisfy(digits.contains) && (length == 8 || length == 10),
                         "\(format) reader made tag '\(tag.text)' of \(Array(bytes))")
            // The id's digits were on the line as sent (hex in either case).
            check(contains(bytes, Array(tag.text.utf8), caseInsensitive: format != .decimal),
                         "\(format) reader made tag '\(tag.text)', which is not in \(Array(bytes))")
            _ = tag.decimalForms
        }
    }
    return 0
}

/// Whether `needle` occurs in `haystack` (ASCII letters compared without case when asked).
private func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8], caseInsensitive: Bool) -> Bool {
    func fold(_ byte: UInt8) -> UInt8 { caseInsensitive && byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte }
    guard needle.count <= haystack.count else { return false }
    return (0...(haystack.count - needle.count)).contains { start in
        needle.indices.allSatisfy { fold(haystack[start + $0]) == fold(needle[$0]) }
    }
}
