import PatrolCore

extension PatrolEvent {
    /// An event as tests store and send it: of `kind`, at `time` (GNSS), from `input`, with a
    /// current fix at `coordinate` (`nil`: no position known).
    public static func sample(_ kind: EventKind, deviceID: String = "car-17", time: UTCTime, input: String? = "panic-1",
                              coordinate: Coordinate? = Coordinate(latitude: 47.3769, longitude: 8.5417),
                              fixAgeMilliseconds: Int64 = 700, source: EventTimeSource = .gnss) -> PatrolEvent {
        PatrolEvent(kind: kind, time: EventTime(utc: time, source: source),
                    position: coordinate.map { .current($0, ageMilliseconds: fixAgeMilliseconds) } ?? .none,
                    deviceID: deviceID, inputID: input)
    }
}
