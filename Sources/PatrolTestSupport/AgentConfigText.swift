/// The configuration process tests start `patrol-agent` with: the tables every test sets the same
/// way (the device, the store and status in the test's folder, status every 0.5 s) around the GPS
/// and input tables each test chooses. One definition, so a key every test needs is added once.
public enum AgentConfigText {
    /// - Parameters:
    ///   - gps: the `[gps]` table's keys.
    ///   - store: more `[store]` keys, e.g. `commit_window = 0.5`.
    ///   - tables: the test's own tables (inputs, `[[uplink]]`, `[events]`, `[track]`), after the rest.
    public static func text(device: String, folder: String, gps: String, store: String = "", tables: String) -> String {
        """
        [device]
        id = "\(device)"
        [gps]
        \(gps)
        [store]
        path = "\(folder)/store/agent.db"
        \(store)
        [status]
        runtime_dir = "\(folder)/run"
        interval = 0.5
        \(tables)
        """
    }
}
