import PatrolCore

/// What a receiver said about one message.
public enum DC09Answer: Sendable, Equatable {
    /// Taken: the receiver has the event.
    case ack
    /// Refused as it is, usually for its timestamp; carries the receiver's own time when it sent one,
    /// so the sender can correct its clock and send again.
    case nak(receiverTime: UTCTime?)
    /// "Unable to handle": the receiver understood the block but not the event in it. Sending it
    /// again cannot help.
    case duh

    /// Reads `frame` as the answer to the message numbered `sequence` from `account`.
    ///
    /// Returns nil with the reason for anything that is not that answer: a block for another
    /// sequence or account (a late answer to an earlier message), an unknown token, an encrypted
    /// ACK that does not decrypt with the account's key (whoever sent it does not hold the key).
    /// The NAK is the exception the standard makes: it carries sequence `0000`, no account, and is
    /// never encrypted, since the receiver may not have read the message at all.
    public static func read(_ frame: DC09Frame, sequence: String, account: DC09Account) -> Result<DC09Answer, DC09FrameError> {
        if frame.token == "NAK" {
            return .success(.nak(receiverTime: trailingTimestamp(frame.body)))
        }
        guard frame.token == "ACK" || frame.token == "DUH" else {
            return .failure(DC09FrameError("token \"\(frame.token)\" is not ACK, NAK or DUH"))
        }
        guard frame.sequence == sequence else {
            return .failure(DC09FrameError("\(frame.token) for sequence \(frame.sequence), not \(sequence)"))
        }
        if let answered = frame.account, answered.uppercased() != account.number {
            return .failure(DC09FrameError("\(frame.token) for account \(answered), not \(account.number)"))
        }
        if frame.token == "DUH" { return .success(.duh) }
        switch (account.key, frame.encrypted) {
        case (nil, false):
            return .success(.ack)
        case (nil, true):
            return .failure(DC09FrameError("encrypted ACK to an account without a key"))
        case (.some, false):
            return .failure(DC09FrameError("plain ACK to an encrypted message: whoever sent it may not hold the key"))
        case (.some(let key), true):
            // The receiver's encrypted ACK ends in `]` and its timestamp; garbage out of the wrong key does not.
            guard let clear = DC09Cipher.decrypt(frame.body, key: key),
                  let text = String(validating: clear, as: UTF8.self), text.contains("]"),
                  trailingTimestamp(text) != nil else {
                return .failure(DC09FrameError("encrypted ACK that does not decrypt with the account's key"))
            }
            return .success(.ack)
        }
    }

    /// The `_HH:MM:SS,MM-DD-YYYY` a body ends with, if it does.
    static func trailingTimestamp(_ body: String) -> UTCTime? {
        DC09Timestamp.parse(body.suffix(20))
    }
}
