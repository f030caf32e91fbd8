/// What an `NMEADecoder` made of its input: every byte and line ends up in exactly one bucket,
/// so a receiver or cable that goes bad shows up as rising reject counts, never as a crash.
public struct NMEAStatistics: Sendable, Equatable {
    /// Sentences of a supported type that passed framing, checksum and field checks.
    public var sentencesDecoded = 0
    /// The decoded sentences by type.
    public var decodedByType = NMEASentenceCounts()
    /// Decoded sentences that carried no `*hh` checksum (accepted, as gpsd accepts them).
    public var withoutChecksum = 0
    /// Sentences whose `*hh` did not match the XOR of their body.
    public var badChecksum = 0
    /// Sentences of a supported type with a missing, unparseable or absurd field
    /// (latitude beyond ±90°, month 13, a time of 25:00, too few fields, …).
    public var malformed = 0
    /// Well-framed sentences we do not decode: GSV, TXT, GST, proprietary `$P…`, …
    public var unsupported = 0
    /// Sentences cut short: a `$` arrived before the line ended (two sentences collided),
    /// or the input ended in the middle of a line.
    public var truncated = 0
    /// Sentences longer than `NMEADecoder.maximumSentenceLength` (runs of merged sentences).
    public var overlong = 0
    /// Lines that start with `$` but contain bytes no NMEA sentence can contain.
    public var garbageLines = 0
    /// Bytes outside any `$` sentence (binary protocols, noise, comments, `!` AIS lines),
    /// not counting line ends.
    public var garbageBytes = 0
    /// Fixes delivered (one per reporting cycle with a known date and time).
    public var fixesEmitted = 0

    public init() {}

    /// Sentences that passed framing and checksum, whatever their fields said: a receiver
    /// without a fix or a time sends these too.
    public var intactSentences: Int {
        sentencesDecoded + malformed + unsupported
    }

    /// All sentences rejected for any reason.
    public var rejectedSentences: Int {
        badChecksum + malformed + truncated + overlong + garbageLines
    }
}

/// Decoded sentences per supported type.
public struct NMEASentenceCounts: Sendable, Equatable {
    public var gga = 0, rmc = 0, gns = 0, gll = 0, vtg = 0, gsa = 0, zda = 0

    public init() {}
}
