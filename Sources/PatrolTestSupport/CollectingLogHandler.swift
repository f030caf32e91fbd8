import Foundation
import Logging

/// A swift-log handler that keeps every message, so a test can check what was logged and how often.
public struct CollectingLogHandler: LogHandler {
    /// The messages collected by one or more handlers, shared across copies of a handler.
    public final class Store: @unchecked Sendable {
        public struct Entry: Sendable {
            public let level: Logger.Level
            public let message: String
        }

        private let lock = NSLock()
        private var collected: [Entry] = []

        public init() {}

        public var entries: [Entry] { lock.withLock { collected } }

        /// Messages logged at exactly `level`.
        public func messages(at level: Logger.Level) -> [String] {
            entries.filter { $0.level == level }.map(\.message)
        }

        fileprivate func append(_ entry: Entry) {
            lock.withLock { collected.append(entry) }
        }
    }

    public let store: Store
    public var logLevel: Logger.Level = .trace
    public var metadata: Logger.Metadata = [:]

    public init(store: Store) {
        self.store = store
    }

    /// A logger whose messages land in a new store.
    public static func logger(label: String = "test") -> (Logger, Store) {
        let store = Store()
        return (Logger(label: label) { _ in CollectingLogHandler(store: store) }, store)
    }

    public func log(event: LogEvent) {
        store.append(Store.Entry(level: event.level, message: event.message.description))
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
}
