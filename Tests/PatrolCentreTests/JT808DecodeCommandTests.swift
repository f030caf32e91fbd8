import Foundation
import PatrolTestSupport
import Testing

/// `patrol-centre jt808 decode` as a technician runs it: the real executable, frames from
/// Traccar's JT/T 808 decoder tests as arguments and on standard input.
@Suite struct JT808DecodeCommandTests {
    static let emergencyWest = "7e0200002e094027587492000a000000010000000a03083db7001329f3000000140000130412164952010400000012360a0002341502cb0c20085c107e"
    /// Declares 50 body bytes and holds 40.
    static let wrongLength = "7E02000032013511221122000700000000000C000301578CC006CA3A5C00470000000014072317201501040000000030011631010BD07E"

    static func objects(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func framesAsArgumentsGiveOneObjectEachAndABadFrameAnErrorObject() throws {
        let result = try BuiltExecutable.centre.run(["jt808", "decode", Self.emergencyWest, Self.wrongLength, "7e00027d0300"])
        #expect(result.status == 65, "a bad frame makes the exit status 65")
        let objects = try Self.objects(result.stdout)
        #expect(objects.count == 3)
        #expect(objects[0]["message_id"] as? String == "0x0200")
        #expect(objects[0]["phone"] as? String == "094027587492")
        #expect(objects[0]["serial"] as? Int == 10)
        #expect(objects[0]["check_code_valid"] as? Bool == true)
        let body = try #require(objects[0]["body"] as? [String: Any])
        #expect(body["alarm"] as? Int == 1)
        #expect(body["latitude"] as? Double == 50.871735)
        #expect(body["longitude"] as? Double == -1.255923)
        #expect(body["speed_kmh"] as? Double == 2)
        #expect(body["time"] as? String == "2013-04-12T08:49:52.000Z")
        #expect(objects[1]["field"] as? String == "header.properties.body_length")
        #expect(objects[1]["offset"] as? Int == 2)
        #expect(objects[2]["field"] as? String == "frame")
        #expect((objects[2]["error"] as? String)?.contains("bad escape 7D 03") == true)
    }

    @Test func framesOnStandardInputOnePerLine() throws {
        // Spaces inside a frame (as copied from a hex dump), a blank line, a line that is not hex,
        // and a last line without a newline.
        let input = "7E 0002 0000 043048325465 00B7 CA 7E\n\nnot hex\n7E0102000E013511221122000661757468656E7469636174696F6E3F7E"
        let process = try ChildProcess("/bin/sh", ["-c", "printf '%s' \"$0\" | \"$1\" jt808 decode", input, BuiltExecutable.centre.path])
        #expect(process.waitForExitCode(timeout: 30) == 65)
        let objects = try Self.objects(process.standardOutput)
        #expect(objects.count == 3)
        #expect(objects[0]["message"] as? String == "heartbeat")
        #expect(objects[1]["field"] as? String == "frame")
        #expect((objects[2]["body"] as? [String: Any])?["auth_code"] as? String == "authentication")
    }
}
