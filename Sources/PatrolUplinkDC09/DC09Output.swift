import Logging
import PatrolCore
import PatrolUplink
import Synchronization

/// An alarm receiving centre speaking ANSI/SIA DC-09: one message per event, each waiting for its
/// ACK; NULL messages keep the link supervised when there is nothing to report. It forwards events
/// only: the runner never gives it track, and its progress holds no track back from retention.
///
/// Boards have no real-time clock and receivers refuse messages whose timestamp is off (pysiaalarm:
/// more than 40 s behind or 20 s ahead), so the output keeps the offset a NAK reports and stamps
/// with the corrected time from then on; the NAKed message goes again at once, once.
public final class DC09Output: UplinkOutput {
    public let name: String
    public let account: DC09Account
    let link: DC09Link
    let timeout: Duration
    private let systemMilliseconds: @Sendable () -> Int64
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        /// The last sequence number used, 1–9999 (then 1 again).
        var sequence = 0
        /// Receiver time minus the board's system time, learned from NAKs.
        var clockOffset: Int64 = 0
        /// The event whose fate is unknown and the number it went with: sent again, it keeps the
        /// number, so a receiver that did get it sees a repeat, not a new event.
        var unsettled: (event: Int64, sequence: Int)?
    }

    /// What the receiver did with one event.
    public enum Delivery: Sendable, Equatable {
        case accepted
        /// DUH: the receiver cannot handle it, and never will as it is.
        case refused(reason: String)
    }

    /// - Parameters:
    ///   - udp: one datagram each way instead of a kept-open TCP connection.
    ///   - timeout: how long to wait for each answer.
    ///   - systemMilliseconds: the board's system clock, corrected by what NAKs report.
    public init(name: String, account: DC09Account, host: String, port: Int, udp: Bool = false,
                timeout: Duration = .seconds(10), logger: Logger, systemMilliseconds: @escaping @Sendable () -> Int64) {
        self.name = name
        self.account = account
        link = DC09Link(host: host, port: port, transport: udp ? .udp : .tcp)
        self.timeout = timeout
        self.logger = logger
        self.systemMilliseconds = systemMilliseconds
    }

    public var destination: String { link.destination }
    public let streams: Set<StoreStream> = [.event]

    /// Reports the batch's events one message each, in order; a heartbeat round is a NULL message.
    ///
    /// The events the receiver answered before the link failed are answered as such (so they are
    /// not sent again); the batch throws only when not one event got an answer.
    public func send(_ batch: OutboundBatch) async throws(UplinkLinkError) -> UplinkVerdict {
        if batch.isHeartbeat {
            try await supervise()
            return .answered(UplinkAnswer(accepted: [:]))
        }
        var accepted: [ClosedRange<UInt64>] = []
        var rejected: [UplinkAnswer.Rejection] = []
        for stored in batch.events {
            let delivery: Delivery
            do {
                delivery = try await deliver(stored.event, sequence: stored.sequence)
            } catch {
                if accepted.isEmpty && rejected.isEmpty { throw error }
                break
            }
            let sequence = UInt64(clamping: stored.sequence)
            switch delivery {
            case .accepted: accepted.append(sequence...sequence)
            case .refused(let reason): rejected.append(UplinkAnswer.Rejection(stream: .event, sequences: sequence...sequence, reason: reason))
            }
        }
        return .answered(UplinkAnswer(accepted: accepted.isEmpty ? [:] : [.event: accepted], rejected: rejected))
    }

    /// Reports `event` (the store's `sequence`) and returns the receiver's verdict.
    ///
    /// Throws when the fate is unknown: no answer in time, the link dropped, nothing but blocks that
    /// are not the answer. The caller sends the event again later; it goes with the same number.
    public func deliver(_ event: PatrolEvent, sequence: Int64) async throws(UplinkLinkError) -> Delivery {
        let number = state.withLock { state in
            if let unsettled = state.unsettled, unsettled.event == sequence { return unsettled.sequence }
            let number = Self.next(&state)
            state.unsettled = (sequence, number)
            return number
        }
        let message = DC09Message(event: event, account: account)
        let answer = try await exchange(message, sequence: number)
        state.withLock { $0.unsettled = nil }
        switch answer {
        case .ack: return .accepted
        case .duh: return .refused(reason: "the receiver answered DUH (unable to handle \(message.token) \(message.data))")
        case .nak: throw UplinkLinkError("the receiver answered NAK twice, even with its own clock")
        }
    }

    /// Sends a NULL message (link test); throws when the receiver does not acknowledge it.
    public func supervise() async throws(UplinkLinkError) {
        let number = state.withLock { Self.next(&$0) }
        switch try await exchange(.null, sequence: number) {
        case .ack: return
        case .duh: throw UplinkLinkError("the receiver answered DUH to a NULL message")
        case .nak: throw UplinkLinkError("the receiver answered NAK twice to a NULL message, even with its own clock")
        }
    }

    /// Closes the connection.
    public func close() async {
        await link.close()
    }

    private static func next(_ state: inout State) -> Int {
        state.sequence = sequence(after: state.sequence)
        return state.sequence
    }

    /// Message numbers run 0001–9999 and wrap to 0001 (0000 is the NAK's).
    static func sequence(after number: Int) -> Int {
        number >= 9999 || number < 0 ? 1 : number + 1
    }

    /// Sends `message` until it has an answer other than a first NAK.
    private func exchange(_ message: DC09Message, sequence: Int) async throws(UplinkLinkError) -> DC09Answer {
        let account = account
        let expected = DC09Message.digits(sequence, 4)
        var corrected = false
        while true {
            let now = UTCTime(millisecondsSinceEpoch: systemMilliseconds() &+ state.withLock { $0.clockOffset })
            let block = message.frame(sequence: sequence, account: account, time: now).encoded
            let answer = try await link.exchange(block, timeout: timeout) { received in
                received.flatMap { DC09Answer.read($0, sequence: expected, account: account) }
            }
            guard case .nak(let receiverTime) = answer, !corrected else { return answer }
            corrected = true
            if let receiverTime {
                let offset = receiverTime.millisecondsSinceEpoch &- systemMilliseconds()
                state.withLock { $0.clockOffset = offset }
                logger.notice("uplink \(name): the receiver refused the timestamp \(now) (NAK); its clock says \(receiverTime), so messages are stamped \(offset / 1000) s from the system clock")
            }
        }
    }
}
