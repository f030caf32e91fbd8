/// Stops the run with `message` when `condition` is false. `precondition` would do, but in an
/// optimised build it traps without its message, and the message is what makes a crash readable.
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
