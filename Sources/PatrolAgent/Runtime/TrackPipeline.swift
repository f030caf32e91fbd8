import PatrolCore

/// Where recorded points go: the store's batcher, which owns when they are committed.
public protocol TrackSink: Sendable {
    /// Takes a point; it is durable after the next commit window.
    func add(_ point: TrackPoint) async
}

/// Fix → filter → recorder → sink, with every verdict reported to the status board; the event
/// journal sees the fixes it stamps events with.
///
/// An actor because the source delivers from its own task and the filter and recorder are
/// stateful: one fix is processed at a time, in arrival order.
public actor TrackPipeline {
    private var filter: FixFilter
    private var recorder: TrackRecorder
    private let sink: any TrackSink
    private let board: StatusBoard
    private let events: EventJournal

    public init(filter: FixFilterSettings, recording: RecordingProfile, sink: any TrackSink, board: StatusBoard,
                events: EventJournal) {
        self.filter = FixFilter(settings: filter)
        self.recorder = TrackRecorder(profile: recording)
        self.sink = sink
        self.board = board
        self.events = events
    }

    /// A reload's filter and recording settings. The filter keeps the last fix it accepted and
    /// the recorder its last point, so the track goes on without a jump rejected or a gap.
    public func reconfigure(filter settings: FixFilterSettings, recording profile: RecordingProfile) {
        filter.settings = settings
        recorder.profile = profile
    }

    public func process(_ fix: Fix) async {
        let verdict = filter.check(fix)
        let point = verdict == nil ? recorder.record(fix) : nil
        board.fixArrived(fix, verdict: verdict, recorded: point != nil)
        if let point { await sink.add(point) }
        // Events take positions the filter accepted (a jump is no place to send help to), and
        // reports without a position, which say the fix is lost.
        if verdict == nil || fix.coordinate == nil { await events.fixReceived(fix) }
    }
}
