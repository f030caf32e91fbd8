import PatrolCore

/// What storing an event did: a PLBX 2 press's second event of a kind is not stored again.
public enum EventAppend: Sendable, Equatable {
    /// Stored now, with its new sequence number.
    case stored(sequence: Int64)
    /// The same kind of event of the same press was already stored, with this sequence number.
    case alreadyStored(sequence: Int64)

    public var sequence: Int64 {
        switch self {
        case .stored(let sequence), .alreadyStored(let sequence): sequence
        }
    }
}

extension AgentStore {
    /// Records a PLBX 2 press as finished (its release applied, every event it produced already
    /// committed), fsynced before this returns: only then may the box be told `STORED` and forget it.
    /// Returns false when it was already recorded (a repeat of a finished press).
    public func finishPress(_ press: PressKey) throws -> Bool {
        try locked { state in
            let connection = state.connection
            return try connection.transaction {
                try connection.statement("""
                    INSERT OR IGNORE INTO finished_press(box_id, incarnation, press) VALUES(?, ?, ?)
                    """).execute(press.boxID, press.incarnationHex, Int64(press.press))
                return connection.changes > 0
            }
        }
    }
}
