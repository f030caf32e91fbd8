import PatrolCore

extension AgentStore {
    /// Stores one event in its own transaction, fsynced before this returns (an alarm must not be
    /// lost to a power cut), and returns its sequence number.
    ///
    /// Sequence numbers are per device (one agent, one store) and never repeat, across restarts
    /// and across a corrupt database being replaced (`SequenceReservations`); they may skip.
    ///
    /// The kind is kept as its stable code plus its detail (tag or checkpoint id), the position
    /// as integers plus its label; `payload` keeps the event's JSON as well, which an agent rolled
    /// back to a version before schema 2 reads.
    @discardableResult
    public func appendEvent(_ event: PatrolEvent) throws -> Int64 {
        try recordEvent(event).sequence
    }

    /// Stores one event like ``appendEvent(_:)``, unless it comes from a PLBX 2 press (its
    /// `press` key) that already has a stored event of the same kind: then nothing is stored and
    /// that event's sequence is returned. The check and the press's record are in the event's own
    /// transaction, so an agent killed at any moment leaves both or neither.
    public func recordEvent(_ event: PatrolEvent) throws -> EventAppend {
        try locked { state in
            let connection = state.connection
            if let press = event.press, let existing = try connection.statement("""
                SELECT sequence FROM press_event WHERE box_id = ? AND incarnation = ? AND press = ? AND kind = ?
                """).firstRow(press.boxID, press.incarnationHex, Int64(press.press), event.kind.code, read: { $0.int64(0) }) {
                return .alreadyStored(sequence: existing)
            }
            defer { committed(.event) }
            let sequence = try state.sequences.takeEvent()
            let coordinate = event.position.coordinate
            try connection.transaction {
                try connection.statement("""
                    INSERT INTO event(sequence, device_id, kind, detail, time, time_source, fix, latitude_e7, longitude_e7,
                                      fix_age_ms, button_id, payload)
                    VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(
                        sequence, event.deviceID, event.kind.code, event.kind.detail, event.time.utc.millisecondsSinceEpoch,
                        event.time.source.rawValue, event.position.label, coordinate.map { e7($0.latitude) },
                        coordinate.map { e7($0.longitude) }, event.position.ageMilliseconds, event.inputID, event.payloadJSON)
                if let press = event.press {
                    try connection.statement("""
                        INSERT INTO press_event(box_id, incarnation, press, kind, sequence) VALUES(?, ?, ?, ?, ?)
                        """).execute(press.boxID, press.incarnationHex, Int64(press.press), event.kind.code, sequence)
                }
            }
            return .stored(sequence: sequence)
        }
    }

    /// Events with a sequence greater than `sequence`, oldest first, at most `limit` of them
    /// (an output catching up reads in pages).
    ///
    /// Throws `UnreadableEvent` when a row cannot be read back as an event (a kind this agent does
    /// not know, e.g. written by a newer one), so a reader can set that one row aside.
    public func events(since sequence: Int64, limit: Int = 1000) throws -> [StoredEvent] {
        try locked { state in
            var events: [StoredEvent] = []
            let path = state.connection.path
            try state.connection.statement("""
                SELECT sequence, device_id, kind, detail, time, time_source, fix, latitude_e7, longitude_e7, fix_age_ms,
                       button_id
                FROM event WHERE sequence > ? ORDER BY sequence LIMIT ?
                """).forEachRow(sequence, limit) { row in
                    let sequence = row.int64(0)
                    func invalid(_ what: String) -> UnreadableEvent {
                        UnreadableEvent(sequence: sequence, description: "event #\(sequence) in \(path) cannot be read: \(what) "
                                            + "(written by another version of patrol-agent)")
                    }
                    guard let kind = EventKind(code: row.text(2), detail: row.optionalText(3)) else {
                        throw invalid("unknown kind '\(row.text(2))'")
                    }
                    guard let source = EventTimeSource(rawValue: row.text(5)) else {
                        throw invalid("unknown time source '\(row.text(5))'")
                    }
                    var position = EventPosition.none
                    if let latitude = row.optionalInt64(7), let longitude = row.optionalInt64(8) {
                        let coordinate = Coordinate(latitude: Double(latitude) / 1e7, longitude: Double(longitude) / 1e7)
                        let age = row.optionalInt64(9) ?? 0
                        // Only a fix reported current counts as current.
                        position = row.optionalText(6) == EventPosition.current(coordinate, ageMilliseconds: age).label
                            ? .current(coordinate, ageMilliseconds: age) : .lastKnown(coordinate, ageMilliseconds: age)
                    }
                    let event = PatrolEvent(kind: kind, time: EventTime(utc: UTCTime(millisecondsSinceEpoch: row.int64(4)), source: source),
                                            position: position, deviceID: row.text(1), inputID: row.optionalText(10))
                    events.append(StoredEvent(sequence: sequence, event: event))
                }
            return events
        }
    }

    /// The badges whose last duty event at `reader` signed on: who was on duty there when the
    /// agent stopped (or lost power), so its duty reader starts from them (``TagReaderInput``).
    public func badgesSignedOn(reader: String) throws -> Set<String> {
        let signOn = EventKind.duty(.signOn, badge: "").code, signOff = EventKind.duty(.signOff, badge: "").code
        return try locked { state in
            var signedOn: Set<String> = []
            try state.connection.statement("""
                SELECT kind, detail FROM event WHERE button_id = ? AND kind IN (?, ?) AND detail IS NOT NULL ORDER BY sequence
                """).forEachRow(reader, signOn, signOff) { row in
                    if row.text(0) == signOn { signedOn.insert(row.text(1)) } else { signedOn.remove(row.text(1)) }
                }
            return signedOn
        }
    }

    private func e7(_ degrees: Double) -> Int64 {
        Int64((degrees * 1e7).rounded())
    }
}
