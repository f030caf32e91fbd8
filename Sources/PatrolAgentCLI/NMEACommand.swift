import ArgumentParser
import PatrolCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct NMEACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nmea",
        abstract: "NMEA 0183 tools.",
        subcommands: [Decode.self]
    )
}

extension NMEACommand {
    /// `patrol-agent nmea decode [FILE]`: NMEA in, one gpsd TPV JSON line per fix out.
    ///
    /// Plain `read(2)`/`write(2)` with large buffers: this command is also the decoder's speed
    /// benchmark, so it must not spend its time in I/O layers.
    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode an NMEA 0183 log into gpsd TPV JSON lines, one per fix.",
            discussion: "Reads FILE, or standard input without FILE. Output is gpsd's TPV report (names, units, decimals), fields only where known."
        )

        @Argument(help: "The NMEA log to decode (default: standard input).")
        var file: String?

        @Option(help: "GPS week-rollover pivot, YYYY-MM-DD: earlier dates are moved forward by 1024 weeks.")
        var pivot: String?

        @Flag(help: "Print decoder statistics to standard error.")
        var stats = false

        func run() throws {
            var rollover = WeekRollover()
            if let pivot {
                guard let date = UTCTime(iso8601: pivot) else {
                    throw ValidationError("--pivot must be a date like 2019-04-07, not '\(pivot)'.")
                }
                rollover = WeekRollover(pivot: date)
            }
            let input: Int32
            if let file {
                input = open(file, O_RDONLY)
                guard input >= 0 else { try fail("cannot open \(file): \(errorText())") }
            } else {
                input = STDIN_FILENO
            }
            defer { if input != STDIN_FILENO { close(input) } }

            var decoder = NMEADecoder(rollover: rollover)
            var output = OutputBuffer(descriptor: STDOUT_FILENO)
            let writeFix: (Fix) -> Void = { fix in
                output.append(fix.tpvJSON)
                output.append("\n")
            }
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { chunk.deallocate() }
            while true {
                let count = read(input, chunk.baseAddress, chunk.count)
                if count == 0 { break }
                if count < 0 {
                    if errno == EINTR { continue }
                    try fail("cannot read \(file ?? "standard input"): \(errorText())")
                }
                decoder.consume(UnsafeRawBufferPointer(rebasing: chunk[0..<count]), onFix: writeFix)
            }
            decoder.finish(onFix: writeFix)
            guard output.flush() else { try fail("cannot write output: \(errorText())") }
            if stats { printStatistics(decoder.statistics) }
        }

        private func printStatistics(_ s: NMEAStatistics) {
            let t = s.decodedByType
            var text = "sentences decoded: \(s.sentencesDecoded) (GGA \(t.gga), RMC \(t.rmc), GNS \(t.gns), GLL \(t.gll), VTG \(t.vtg), GSA \(t.gsa), ZDA \(t.zda))\n"
            text += "without checksum: \(s.withoutChecksum)\n"
            text += "bad checksum: \(s.badChecksum)\n"
            text += "malformed: \(s.malformed)\n"
            text += "unsupported: \(s.unsupported)\n"
            text += "truncated: \(s.truncated)\n"
            text += "overlong: \(s.overlong)\n"
            text += "garbage lines: \(s.garbageLines)\n"
            text += "garbage bytes: \(s.garbageBytes)\n"
            text += "fixes emitted: \(s.fixesEmitted)\n"
            writeStandardError(text)
        }

        private func fail(_ message: String) throws -> Never {
            writeStandardError("patrol-agent nmea decode: \(message)\n")
            throw ExitCode.failure
        }
    }
}

