import Logging
import PatrolCore
import ServiceLifecycle

/// Runs the GPS input into the track pipeline until shutdown. It is the last service started and
/// the first stopped, so no fix arrives after the store has flushed.
struct GPSService: Service {
    let source: any FixSource
    let pipeline: TrackPipeline
    let board: StatusBoard

    func run() async throws {
        let board = board
        let pipeline = pipeline
        let source = source
        await cancelWhenGracefulShutdown {
            await source.run(deliver: { fix in await pipeline.process(fix) },
                             stateChanged: { state in board.gpsStateChanged(state) })
        }
    }
}
