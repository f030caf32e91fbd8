import ArgumentParser
import Foundation
import PatrolCore

struct JT808Command: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jt808", abstract: "JT/T 808 tools for technicians.", subcommands: [Decode.self])

    /// `patrol-centre jt808 decode [HEX…]`: frames from a terminal's or platform's log, one JSON
    /// object per line, with the same decoder the listener and the agent use.
    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode JT/T 808 frames given in hex into one JSON object per line.",
            discussion: """
                Frames are the arguments, or one per line on standard input without arguments; spaces inside a \
                frame are ignored, the 7E flags may be left out. A frame that cannot be read prints an error \
                object naming the field and byte offset; the exit status is then 65.
                """)

        @Argument(help: "Frames in hex (default: one per line on standard input).")
        var frames: [String] = []

        /// A line longer than this cannot be a frame (the largest is about 4,200 hex digits).
        static let maxLineBytes = 64 * 1024

        func run() throws {
            var failed = false
            let show = { (text: String) in
                let line = Self.decode(text)
                if line.hasPrefix("{\"error\"") { failed = true }
                print(line)
            }
            if !frames.isEmpty {
                frames.forEach(show)
            } else {
                var splitter = LineSplitter(maximumLength: Self.maxLineBytes)
                while true {
                    let chunk = FileHandle.standardInput.availableData
                    let overlong = splitter.overlongLines
                    let lines = splitter.append(chunk.isEmpty ? [LineSplitter.lineFeed] : Array(chunk))
                    for _ in overlong..<splitter.overlongLines {
                        print(JT808JSON.error(WireError(field: "frame", offset: 0, message: "line longer than \(Self.maxLineBytes) bytes"),
                                              input: ""))
                        failed = true
                    }
                    lines.forEach { show(String(decoding: $0, as: UTF8.self)) }
                    if chunk.isEmpty { break }
                }
            }
            if failed { throw ExitCode(65) }
        }

        /// One frame's JSON line, or its error object.
        static func decode(_ text: String) -> String {
            let hex = text.filter { !$0.isWhitespace }
            guard let bytes = Hex.decode(hex) else {
                return JT808JSON.error(WireError(field: "frame", offset: 0, message: "is not hex (pairs of 0-9, a-f)"), input: hex)
            }
            do {
                return JT808JSON.object(try JT808Frame.parse(bytes))
            } catch {
                return JT808JSON.error(error, input: hex)
            }
        }
    }
}
