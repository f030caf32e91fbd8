/// A streaming NMEA 0183 decoder: bytes in, one merged `Fix` per reporting cycle out.
///
/// Input may be split anywhere (the unfinished line is kept until the next call) and may contain
/// anything: binary protocols, noise, wrapped or truncated lines, two sentences run together.
/// A sentence starts at `$` and ends at CR or LF; everything else is counted in `statistics`
/// and skipped. Supported sentences (GGA RMC GNS GLL VTG GSA ZDA, any talker) are merged per
/// cycle the way gpsd 3.22 merges them, see `NMEACycleMerger`.
///
/// Parsing works on the input bytes in place: no allocation per sentence or field.
public struct NMEADecoder: Sendable {
    /// The longest sentence accepted, `$` to checksum. NMEA allows 82 bytes with CR LF; receivers
    /// with 8-decimal RTK positions go beyond. Every longer standard sentence in gpsd's 60
    /// regression logs is two sentences run together (receiver buffer overruns), so they are
    /// rejected rather than parsed with fields of the wrong sentence.
    public static let maximumSentenceLength = 100

    /// What the decoder made of its input so far.
    public var statistics: NMEAStatistics {
        var statistics = counts
        statistics.fixesEmitted = merger.fixesEmitted
        return statistics
    }

    private var counts = NMEAStatistics()
    private var merger: NMEACycleMerger
    /// The start of a sentence whose end has not arrived yet, at most `maximumSentenceLength + 1` bytes.
    private var partialSentence: [UInt8] = []
    /// Length of the partial sentence including bytes dropped beyond the buffer.
    private var partialLength = 0

    public init(rollover: WeekRollover = WeekRollover()) {
        merger = NMEACycleMerger(rollover: rollover)
        partialSentence.reserveCapacity(NMEADecoder.maximumSentenceLength + 1)
    }

    /// Decodes `bytes`, calling `onFix` for every reporting cycle they complete.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer, onFix: (Fix) -> Void) {
        var index = 0
        if partialLength > 0 {
            index = completePartialSentence(bytes, onFix: onFix)
        }
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            guard byte == ASCII.dollar else {
                if byte != ASCII.lineFeed && byte != ASCII.carriageReturn { counts.garbageBytes += 1 }
                index += 1
                continue
            }
            let end = NMEADecoder.endOfSentence(in: bytes, from: index + 1)
            guard end < count else {
                keepPartialSentence(UnsafeRawBufferPointer(rebasing: bytes[index..<count]))
                break
            }
            handleLine(UnsafeRawBufferPointer(rebasing: bytes[index..<end]), length: end - index,
                       terminator: bytes[end], onFix: onFix)
            index = end
        }
    }

    /// Decodes any byte collection (an `Array`, a `Data` slice, …).
    public mutating func consume(_ bytes: some Collection<UInt8>, onFix: (Fix) -> Void) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            consume(UnsafeRawBufferPointer(buffer), onFix: onFix)
        }
        if done == nil {
            Array(bytes).withUnsafeBytes { consume($0, onFix: onFix) }
        }
    }

    /// Ends the input: a sentence without its line end is counted as truncated, and the last
    /// cycle is emitted.
    public mutating func finish(onFix: (Fix) -> Void) {
        if partialLength > 0 {
            if partialLength > NMEADecoder.maximumSentenceLength { counts.overlong += 1 } else { counts.truncated += 1 }
            partialSentence.removeAll(keepingCapacity: true)
            partialLength = 0
        }
        merger.finish(onFix: onFix)
    }

    // MARK: Framing

    /// Index of the first byte from `start` on that cannot be part of a sentence: a line end,
    /// a `$` (a new sentence), or a byte outside printable ASCII. `bytes.count` when none.
    private static func endOfSentence(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte < ASCII.space || byte > ASCII.tilde || byte == ASCII.dollar { return index }
            index += 1
        }
        return count
    }

    private mutating func keepPartialSentence(_ bytes: UnsafeRawBufferPointer) {
        let room = NMEADecoder.maximumSentenceLength + 1 - partialSentence.count
        if room > 0 { partialSentence.append(contentsOf: bytes.prefix(room)) }
        partialLength += bytes.count
    }

    /// Continues the sentence left over from the previous chunk; returns where the rest of
    /// `bytes` starts.
    private mutating func completePartialSentence(_ bytes: UnsafeRawBufferPointer, onFix: (Fix) -> Void) -> Int {
        let end = NMEADecoder.endOfSentence(in: bytes, from: 0)
        keepPartialSentence(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
        guard end < bytes.count else { return end }
        let length = partialLength
        let line = partialSentence
        partialSentence.removeAll(keepingCapacity: true)
        partialLength = 0
        line.withUnsafeBytes { handleLine($0, length: length, terminator: bytes[end], onFix: onFix) }
        return end
    }

    /// `line` runs from `$` to just before `terminator`; `length` is its full length (a kept
    /// partial line may have been cut to the maximum).
    private mutating func handleLine(_ line: UnsafeRawBufferPointer, length: Int, terminator: UInt8,
                                     onFix: (Fix) -> Void) {
        if length > NMEADecoder.maximumSentenceLength {
            counts.overlong += 1
        } else if terminator == ASCII.lineFeed || terminator == ASCII.carriageReturn {
            decodeSentence(line, onFix: onFix)
        } else if terminator == ASCII.dollar {
            counts.truncated += 1
        } else {
            counts.garbageLines += 1
        }
    }

    // MARK: Sentences

    /// Checks the checksum, identifies the type and hands the fields to the parser and merger.
    private mutating func decodeSentence(_ line: UnsafeRawBufferPointer, onFix: (Fix) -> Void) {
        var sum: UInt8 = 0
        var fieldCount = 1
        var star = 1
        let count = line.count
        while star < count {
            let byte = line[star]
            if byte == ASCII.star { break }
            if byte == ASCII.comma { fieldCount += 1 }
            sum ^= byte
            star += 1
        }
        if star < count {
            var end = count
            while end > star + 1, line[end - 1] == ASCII.space { end -= 1 }
            guard end == star + 3, let high = ASCII.hexValue(line[star + 1]), let low = ASCII.hexValue(line[star + 2]),
                  high << 4 | low == sum else {
                counts.badChecksum += 1
                return
            }
        }
        let body = UnsafeRawBufferPointer(rebasing: line[1..<star])
        var fields = NMEAFieldReader(body: body)
        let address = fields.next()
        guard address.bytes.count == 5, address.first != ASCII.p,
              let kind = NMEASentence.Kind(address.bytes[2], address.bytes[3], address.bytes[4]) else {
            if address.isEmpty { counts.malformed += 1 } else { counts.unsupported += 1 }
            noteOtherSentence(address: address, fields: fields, fieldCount: fieldCount, onFix: onFix)
            return
        }
        let fieldsAfterAddress = fields
        let talker = address.bytes[1]
        guard let sentence = NMEASentence.parse(kind, fields: &fields, fieldCount: fieldCount) else {
            counts.malformed += 1
            noteOtherSentence(address: address, fields: fieldsAfterAddress, fieldCount: fieldCount, onFix: onFix)
            return
        }
        if star == count { counts.withoutChecksum += 1 }
        counts.sentencesDecoded += 1
        counts.decodedByType.count(kind)
        merger.apply(sentence, talker: talker, onFix: onFix)
    }
}

extension NMEADecoder {
    /// Tells the merger about a sentence we do not use, and whether gpsd would have decoded it
    /// (standard sentences gpsd 3.22 has a decoder for, with its minimum field counts), because
    /// that changes how gpsd finds the end of a cycle.
    private mutating func noteOtherSentence(address: NMEAField, fields: NMEAFieldReader, fieldCount: Int,
                                            onFix: (Fix) -> Void) {
        var minimumFields = -1
        var isDepth = false
        var isErrorEstimate = false
        if address.bytes.count == 5, address.first != ASCII.p {
            switch (address.bytes[2], address.bytes[3], address.bytes[4]) {
            case (0x44, 0x42, 0x54): minimumFields = 7; isDepth = true // DBT
            case (0x44, 0x54, 0x4D): minimumFields = 2 // DTM
            case (0x47, 0x42, 0x53): minimumFields = 7; isErrorEstimate = true // GBS
            case (0x47, 0x53, 0x54): minimumFields = 8 // GST
            case (0x47, 0x53, 0x56): minimumFields = 0 // GSV
            case (0x48, 0x44, 0x47): minimumFields = 0 // HDG
            case (0x48, 0x44, 0x54): minimumFields = 1 // HDT
            case (0x4D, 0x57, 0x44): minimumFields = 0 // MWD
            case (0x4D, 0x57, 0x56): minimumFields = 0 // MWV
            case (0x54, 0x58, 0x54): minimumFields = 5 // TXT
            default: break
            }
        }
        let gpsdDecodes = minimumFields >= 0 && fieldCount >= minimumFields
        var fields = fields
        let errorEstimateTime = isErrorEstimate && gpsdDecodes ? fields.next().timeOfDay : nil
        merger.noteOtherSentence(gpsdDecodes: gpsdDecodes, isDepth: isDepth && gpsdDecodes,
                                 errorEstimateTime: errorEstimateTime, onFix: onFix)
    }
}

extension NMEASentenceCounts {
    mutating func count(_ kind: NMEASentence.Kind) {
        switch kind {
        case .gga: gga += 1
        case .rmc: rmc += 1
        case .gns: gns += 1
        case .gll: gll += 1
        case .vtg: vtg += 1
        case .gsa: gsa += 1
        case .zda: zda += 1
        }
    }
}
