import Logging
import PatrolCore
import ServiceLifecycle

/// Runs the GPS input into the track pipeline until shutdown. It is the last service started and
/// the first stopped, so no fix arrives after the store has flushed. A reload that changes the
/// GPS input stops the old source before the new one opens its port or connection.
struct GPSService: Service {
    let source: RunningParts<GPSInputConfig, any FixSource>

    func run() async throws {
        await source.runUntilShutdown()
    }

    /// The GPS input's part: its fixes go to `pipeline`, its state to the board.
    static func part(pipeline: TrackPipeline, board: StatusBoard) -> RunningParts<GPSInputConfig, any FixSource> {
        RunningParts { source in
            board.gpsSourceChanged(source.name)
            await source.run(deliver: { fix in await pipeline.process(fix) },
                             stateChanged: { state in board.gpsStateChanged(state) })
        }
    }
}
