import Foundation
import PatrolTestSupport
import Testing

/// The real `patrol-agent` under a stand-in for systemd (`Type=notify`, `WatchdogSec=`): a datagram
/// socket the test binds, named to the agent in `$NOTIFY_SOCKET` as systemd would, and
/// `$WATCHDOG_USEC`. What is not real: systemd itself, which would kill the agent when the pets stop;
/// the test checks that they stop, and that they come back once the store works again.
@Suite(.serialized) struct SupervisionProcessTests {
    let folder: TemporaryDirectory

    init() throws {
        folder = try TemporaryDirectory()
    }

    /// A configuration for a gpsd on `port`, recording every fix, committing every second.
    func writeConfig(gpsdPort: Int) throws -> String {
        let path = folder.path + "/agent.toml"
        try """
        [device]
        id = "test-car"
        [gps]
        source = "gpsd"
        gpsd_host = "127.0.0.1"
        gpsd_port = \(gpsdPort)
        rollover_pivot = "2017-01-01"
        [track]
        record_every_fix = true
        [store]
        path = "\(folder.path)/store/agent.db"
        commit_window = 1
        [status]
        runtime_dir = "\(folder.path)/run"
        interval = 0.5
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startAgent(_ config: String, notify: NotifySocket, watchdogMicroseconds: Int = 1_000_000) throws -> ChildProcess {
        try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config],
                         environment: ["NOTIFY_SOCKET": notify.name, "WATCHDOG_USEC": String(watchdogMicroseconds)])
    }

    @Test func anIdleAgentSaysReadyThenKeepsPettingTheWatchdogAndSaysStoppingOnSigterm() throws {
        let notify = try NotifySocket(abstractName: "patrol-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        // No gpsd on this port and no inputs: nothing to commit, nothing to send.
        let agent = try startAgent(try writeConfig(gpsdPort: try FreePort.allocate()), notify: notify)
        defer { agent.signal(SIGKILL) }

        let first = notify.receive(timeout: 15)
        #expect(first == "READY=1\nSTATUS=no fix yet, no uplink, 0 open alarms", "\(agent.output)")
        // Pets every half interval (0.5 s), none missed over 4 s of idleness.
        let messages = notify.receive(for: 4)
        #expect(messages.filter { $0.hasPrefix("WATCHDOG=1\n") }.count >= 6, "\(messages)\n\(agent.output)")
        #expect(messages.allSatisfy { $0 == "WATCHDOG=1\nSTATUS=no fix yet, no uplink, 0 open alarms" }, "\(messages)")

        agent.signal(SIGTERM)
        #expect(agent.waitForExitCode(timeout: 15) == 0, "\(agent.output)")
        #expect(notify.receive(for: 0.5).last?.hasPrefix("STOPPING=1\n") == true)
    }

    @Test func aStoreWhoseCommitsFailStopsThePetsUntilItWorksAgain() throws {
        let notify = try NotifySocket(path: folder.path + "/notify")
        let gpsd = try GPSFake(logPath: Fixtures.path("gpsd-logs/bundg_zeus_9.log"), cycle: 0.02)
        let agent = try startAgent(try writeConfig(gpsdPort: gpsd.port), notify: notify)
        defer { agent.signal(SIGKILL) }

        #expect(notify.receive(timeout: 15)?.hasPrefix("READY=1\n") == true, "\(agent.output)")
        // Fixes arrive and are committed every second: the agent is alive.
        let flowing = notify.receive(for: 3)
        #expect(flowing.filter { $0.hasPrefix("WATCHDOG=1\n") }.count >= 4, "\(flowing)\n\(agent.output)")
        #expect(flowing.last?.contains("STATUS=fix 0 s old") == true, "\(flowing)")

        // The kernel now refuses every write to the store's files (as a card gone read-only would).
        let store = folder.path + "/store"
        let files = try FileManager.default.contentsOfDirectory(atPath: store).map { store + "/" + $0 }
        try run("chattr", ["+i"] + files)
        defer { try? run("chattr", ["-i"] + files) }
        // The pets go on while the points may still wait (three commit windows), then stop. Should
        // the feed pause just then, the GPS-lost event that follows is what cannot be committed.
        var judged: String?
        let deadline = Date().addingTimeInterval(60)
        while judged == nil, Date() < deadline, let message = notify.receive(timeout: 15) {
            if message.contains("; stuck: ") { judged = message }
        }
        #expect(judged?.hasPrefix("STATUS=") == true
                && (judged?.contains("track points have waited") == true || judged?.contains("an event has waited") == true),
                "\(judged ?? "nothing judged")\n\(agent.output.suffix(3000))")
        #expect(agent.output.contains("the agent's pipeline is stuck: "), "\(agent.output)")
        let wedged = notify.receive(for: 3)
        #expect(!wedged.isEmpty && wedged.allSatisfy { !$0.contains("WATCHDOG=1") }, "no pets while commits fail: \(wedged)")

        // Writable again: the points kept in memory are committed and the pets resume.
        try run("chattr", ["-i"] + files)
        #expect(agent.waitForOutput(containing: "the agent's pipeline works again", timeout: 15), "\(agent.output)")
        #expect(notify.receive(for: 2).contains { $0.hasPrefix("WATCHDOG=1\n") })
        agent.signal(SIGTERM)
        #expect(agent.waitForExitCode(timeout: 15) == 0, "\(agent.output)")
    }

    func run(_ program: String, _ arguments: [String]) throws {
        let process = try ChildProcess(program, arguments)
        guard process.waitForExitCode(timeout: 10) == 0 else { throw SystemCallError("\(program) \(arguments): \(process.output)", errno: 0) }
    }
}

/// A Unix datagram socket standing in for systemd's notification socket: each message the agent
/// sends to `$NOTIFY_SOCKET` arrives here as one datagram.
final class NotifySocket {
    /// What `$NOTIFY_SOCKET` says: a path, or `@name` in the abstract namespace.
    let name: String
    private let descriptor: Int32
    private let path: String?

    convenience init(path: String) throws {
        try self.init(name: path, address: Array(path.utf8), path: path)
    }

    convenience init(abstractName: String) throws {
        try self.init(name: "@" + abstractName, address: [0] + Array(abstractName.utf8), path: nil)
    }

    private init(name: String, address bytes: [UInt8], path: String?) throws {
        self.name = name
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SystemCallError("socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        guard bound == 0 else { close(descriptor); throw SystemCallError("bind \(name)") }
    }

    deinit {
        close(descriptor)
        if let path { unlink(path) }
    }

    /// The next message, or nil when none came within `timeout` seconds.
    func receive(timeout: TimeInterval) -> String? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        return count < 0 ? nil : String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Every message that arrives within `seconds`.
    func receive(for seconds: TimeInterval) -> [String] {
        let end = Date().addingTimeInterval(seconds)
        var messages: [String] = []
        while case let left = end.timeIntervalSinceNow, left > 0 {
            if let message = receive(timeout: left) { messages.append(message) }
        }
        return messages
    }
}
