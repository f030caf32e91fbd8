import Foundation
import Synchronization

/// The real box firmware (Board/button-box) running in simavr under its harness `plbx-sim`: the
/// unmodified image, its USART on a pseudo-terminal at ``linkPath``, contacts pressed by driving
/// the simulated input pins. What the harness reports (boot causes, LED and buzzer pin changes,
/// contact edges) is kept with the simulator's microsecond clock, so a test can read the latency
/// from a pin edge to an LED off one clock.
///
/// Built by `make -C Board/button-box firmware sim` (scripts/test.sh does it).
public final class SimulatedButtonBox: @unchecked Sendable {
    /// One line the harness reported: `led 1 on`, `press 1`, `boot watchdog`, …
    public struct Report: Sendable, Equatable {
        public var micros: UInt64
        public var text: String
    }

    public static let buildFolder = Fixtures.repositoryRoot + "/Board/button-box/build"
    public static let firmwarePath = buildFolder + "/plbx-box.elf"
    public static let harnessPath = buildFolder + "/plbx-sim"

    /// Whether the firmware and the harness are built.
    public static var isBuilt: Bool {
        FileManager.default.isExecutableFile(atPath: harnessPath) && FileManager.default.fileExists(atPath: firmwarePath)
    }

    /// The pseudo-terminal the box's serial line is on; the agent, or a ``SerialInterposer``, opens it.
    public let linkPath: String
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let reports = Mutex<[Report]>([])
    private let isReady = Atomic<Bool>(false)

    /// Starts the box and waits until its line is linked.
    /// - Parameters:
    ///   - eeprom: a file that keeps the EEPROM between runs (the harness's `--eeprom`).
    ///   - protocol1: the protocol 1 jumper is set: the box only speaks protocol 1.
    public init(folder: TemporaryDirectory, eeprom: String? = nil, protocol1: Bool = false) throws {
        linkPath = folder.path + "/box-\(UUID().uuidString.prefix(8))"
        process.executableURL = URL(fileURLWithPath: Self.harnessPath)
        process.arguments = ["--firmware", Self.firmwarePath, "--link", linkPath]
            + (eeprom.map { ["--eeprom", $0] } ?? []) + (protocol1 ? ["--protocol1"] : [])
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        // The pipes must not leak into the agents and centres later tests start (they would count
        // against those processes' file limits), and the harness's ends must close here so that
        // its exit is an end of file for the reader.
        for handle in [input.fileHandleForReading, input.fileHandleForWriting,
                       output.fileHandleForReading, output.fileHandleForWriting] {
            _ = fcntl(handle.fileDescriptor, F_SETFD, FD_CLOEXEC)
        }
        try process.run()
        try? input.fileHandleForReading.close()
        try? output.fileHandleForWriting.close()
        Thread { [self] in readReports() }.start()
        guard waitUntil(timeout: 20, { isReady.load(ordering: .relaxed) ? true : nil }) == true else {
            stop()
            throw SystemCallError("plbx-sim did not link \(linkPath)")
        }
    }

    deinit { stop() }

    /// Closes contact `n` (1…16) on the simulated pins.
    public func press(_ contact: Int) { send("press \(contact)") }
    public func release(_ contact: Int) { send("release \(contact)") }
    /// An external reset (the reset pin): RAM lost, EEPROM kept.
    public func reset() { send("reset") }
    public func powerOff() { send("power off") }
    public func powerOn() { send("power on") }

    /// Every report so far, in order.
    public var all: [Report] { reports.withLock { $0 } }

    /// Waits up to `timeout` seconds for a report `text` after index `after`; returns it.
    public func waitFor(_ text: String, after index: Int = 0, timeout: TimeInterval = 10) -> Report? {
        waitUntil(timeout: timeout) { reports.withLock { $0.dropFirst(index).first { $0.text == text } } }
    }

    /// Quits the harness (end of its input) and waits for it; the reader then sees the end of its output.
    public func stop() {
        guard process.isRunning else { return }
        send("quit")
        try? input.fileHandleForWriting.close()
        let deadline = Date(timeIntervalSinceNow: 3)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    private func send(_ command: String) {
        try? input.fileHandleForWriting.write(contentsOf: Data((command + "\n").utf8))
    }

    private func readReports() {
        var pending = Data()
        while true {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                try? output.fileHandleForReading.close()
                return
            }
            pending.append(chunk)
            while let end = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[pending.startIndex..<end], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...end)
                if line == "ready" {
                    isReady.store(true, ordering: .relaxed)
                } else if let space = line.firstIndex(of: " "), let micros = UInt64(line[..<space]) {
                    reports.withLock { $0.append(Report(micros: micros, text: String(line[line.index(after: space)...]))) }
                }
            }
        }
    }
}
