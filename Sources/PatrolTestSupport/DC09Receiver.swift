import Foundation

/// An alarm receiving centre's DC-09 receiver on 127.0.0.1: pysiaalarm 3.2.2 (an independent,
/// widely used implementation, installed by scripts/setup.sh into `.venv`) reading and answering
/// every block, run by `Tests/Support/dc09_receiver.py`.
public final class DC09Receiver: @unchecked Sendable {
    /// How the receiver treats `count` blocks (after the first `after`), answering the others as pysiaalarm does.
    public enum Misbehaviour: String, Sendable {
        /// DUH, "unable to handle".
        case duh
        /// The right answer, after `late` seconds.
        case late
        /// No answer, connection kept open.
        case never
        /// The connection closed without an answer.
        case drop
    }

    /// One block as pysiaalarm read it, and what was answered.
    public struct Block: Decodable, Sendable {
        public var raw: String
        public var parsed: Bool
        public var account: String?
        public var sequence: String?
        public var messageType: String?
        public var encrypted: Bool?
        public var code: String?
        public var ri: String?
        public var message: String?
        public var qualifier: String?
        public var eventType: String?
        public var partition: String?
        public var timestamp: String?
        public var extended: [String: String]?
        public var validCrc: Bool?
        public var validTimestamp: Bool?
        public var response: String?
        public var behaviour: String?

        enum CodingKeys: String, CodingKey {
            case raw, parsed, account, sequence, encrypted, code, ri, message, qualifier, partition, timestamp, extended, response, behaviour
            case messageType = "message_type", eventType = "event_type", validCrc = "valid_crc", validTimestamp = "valid_timestamp"
        }

        /// Whether the receiver acknowledged it.
        public var acknowledged: Bool { response?.contains("ACK\"") == true && behaviour == "answer" }
    }

    public let port: Int
    private let process: ChildProcess

    /// The interpreter of the project's venv, where setup.sh installs pysiaalarm.
    public static var python: String { Fixtures.repositoryRoot + "/.venv/bin/python" }

    /// Starts the receiver for `account` (and `key`, given as pysiaalarm takes it: the key's characters).
    public init(account: String, key: String? = nil, udp: Bool = false, misbehave: Misbehaviour? = nil, count: Int = 1,
                after: Int = 0, late: Double = 3, port: Int? = nil) throws {
        self.port = try port ?? FreePort.allocate()
        var arguments = [Fixtures.repositoryRoot + "/Tests/Support/dc09_receiver.py", "--port", String(self.port), "--account", account]
        if let key { arguments += ["--key", key] }
        if udp { arguments.append("--udp") }
        if let misbehave {
            arguments += ["--misbehave", misbehave.rawValue, "--count", String(count), "--after", String(after), "--late", String(late)]
        }
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw DC09ReceiverError(description: "\(Self.python) is missing: run scripts/setup.sh, which installs pysiaalarm into .venv")
        }
        process = try ChildProcess(Self.python, arguments)
        guard process.waitForOutput(containing: "\"listening\"", timeout: 20) else {
            process.signal(SIGKILL)
            throw DC09ReceiverError(description: "the DC-09 receiver did not start: \(process.output)")
        }
    }

    deinit {
        stop()
    }

    /// Kills the receiver (like a crash: connections reset) and waits for it.
    public func stop() {
        process.signal(SIGKILL)
        process.waitForExit(timeout: 5)
    }

    /// Every block received so far, oldest first.
    public var blocks: [Block] {
        process.standardOutput.split(separator: "\n").compactMap { line in
            try? JSONDecoder().decode(Block.self, from: Data(line.utf8))
        }.filter { !$0.raw.isEmpty }
    }

    /// Waits until `count` blocks satisfying `condition` have arrived; returns them.
    public func wait(for count: Int = 1, timeout: TimeInterval = 15, where condition: (Block) -> Bool = { _ in true }) -> [Block]? {
        waitUntil(timeout: timeout) {
            let matching = blocks.filter(condition)
            return matching.count >= count ? matching : nil
        }
    }

    /// What the receiver printed, for failure messages.
    public var output: String { process.output }
}

public struct DC09ReceiverError: Error, CustomStringConvertible {
    public let description: String
}
