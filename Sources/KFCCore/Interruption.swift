import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Cleanup run when a command is stopped by SIGINT, SIGTERM or SIGHUP: child processes are
/// killed and half-made results removed before the process exits.
///
/// Actions run on a thread of their own while the interrupted work may still be running, so each
/// must be safe to run at any moment (killing a pid, removing a pending folder).
public enum Interruption {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var actions: [Int: @Sendable () -> Void] = [:]
    nonisolated(unsafe) private static var nextToken = 0

    /// Takes over SIGINT, SIGTERM and SIGHUP for this process; `program` names it in the
    /// message printed on the way out. Exits with 128 + the signal number.
    ///
    /// The handler only writes the signal number to a pipe, the one async-signal-safe way
    /// out, and a thread reading the pipe runs the actions. Handled signals, unlike ignored
    /// or blocked ones, go back to their defaults in child programs.
    public static func install(program: String) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        signalPipe = ends[1]
        let reader = ends[0]
        let thread = Thread {
            var number: UInt8 = 0
            while read(reader, &number, 1) != 1 {}
            lock.withLock { stopping = true }
            StandardError.write("\(program): stopped by signal \(number), cleaning up\n")
            runAll()
            exit(128 + Int32(number))
        }
        thread.start()
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number) { received in
                var byte = UInt8(truncatingIfNeeded: received)
                _ = write(Interruption.signalPipe, &byte, 1)
            }
        }
    }

    /// Whether a signal arrived and its cleanup runs, after which the process exits.
    public static var isStopping: Bool { lock.withLock { stopping } }
    nonisolated(unsafe) private static var stopping = false

    /// The write end of the pipe the signal handler writes to; set before any handler is.
    nonisolated(unsafe) static var signalPipe: Int32 = -1

    /// Adds `action`; returns the token that removes it again.
    @discardableResult
    public static func register(_ action: @escaping @Sendable () -> Void) -> Int {
        lock.withLock {
            nextToken += 1
            actions[nextToken] = action
            return nextToken
        }
    }

    /// Removes the action of `token`.
    public static func unregister(_ token: Int) {
        _ = lock.withLock { actions.removeValue(forKey: token) }
    }

    /// Runs and removes every action, newest first.
    static func runAll() {
        let pending = lock.withLock {
            let sorted = actions.sorted { $0.key > $1.key }.map(\.value)
            actions.removeAll()
            return sorted
        }
        for action in pending { action() }
    }
}
