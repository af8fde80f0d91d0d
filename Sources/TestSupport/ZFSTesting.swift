import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// One test at a time on this machine may use ZFS.
///
/// zfs-fuse 0.7 hangs for good, with its clients stuck in uninterruptible sleep, when two
/// pools are created and their first datasets mounted at the same time (seen on Debian
/// 12's 0.7.0-25). Every ZFS test therefore holds this lock from creating its first pool
/// to destroying its last: a lock within the process, and an flock on a file for other
/// test processes on the same machine.
public enum ZFSTestLock {
    /// The lock file shared by every test process on the machine.
    public static let path = "/tmp/kfc-zfs-tests.lock"

    private static let threadLock = NSRecursiveLock()
    nonisolated(unsafe) private static var depth = 0
    nonisolated(unsafe) private static var fileDescriptor: Int32 = -1

    /// Takes the lock; calls nest on one thread, and each needs one `release()`.
    public static func acquire() throws {
        threadLock.lock()
        if depth == 0 {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
            guard fd >= 0 else {
                threadLock.unlock()
                throw SystemCall.error("open \(path)", errno: errno)
            }
            while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
            fileDescriptor = fd
        }
        depth += 1
    }

    /// Gives back one `acquire()`.
    public static func release() {
        depth -= 1
        if depth == 0 {
            flock(fileDescriptor, LOCK_UN)
            close(fileDescriptor)
            fileDescriptor = -1
        }
        threadLock.unlock()
    }

    /// Runs `body` holding the lock.
    public static func hold<T>(_ body: () throws -> T) throws -> T {
        try acquire()
        defer { release() }
        return try body()
    }
}

/// The zfs-fuse daemon: started once by the tests when none responds, and stopped by its pid
/// when the test process exits.
public enum ZFSDaemon {
    nonisolated(unsafe) private static var started: Process?
    private static let lock = NSLock()

    /// Whether ZFS tests can run here: root, the zfs tools, zfs-fuse and /dev/fuse.
    public static var available: Bool {
        TestEnvironment.isRoot && TestEnvironment.hasTools("zfs", "zpool", "zfs-fuse")
            && FileSystem.exists("/dev/fuse")
    }

    /// Starts zfs-fuse in the foreground as a child process unless `zpool list` succeeds.
    ///
    /// In its daemonizing form zfs-fuse leaves its first process a zombie that Foundation's
    /// `Process` waits on forever, and a foreground child keeps its pid known.
    public static func ensureRunning() throws {
        try lock.withLock {
            if started?.isRunning == true || responds() { return }
            // Test threads block SIGTERM, and a child inherits the mask, so zfs-fuse would
            // never see the SIGTERM that stops it. env (coreutils 9) unblocks and resets
            // every signal, then becomes zfs-fuse under the same pid.
            let daemon = Process()
            daemon.executableURL = URL(fileURLWithPath: Command.which("env") ?? "/usr/bin/env")
            daemon.arguments = ["--default-signal", "zfs-fuse", "--no-daemon", "--no-kstat-mount"]
            daemon.standardOutput = FileHandle.nullDevice
            daemon.standardError = FileHandle.nullDevice
            try daemon.run()
            if started == nil { atexit { ZFSDaemon.stop() } }
            started = daemon
            for _ in 0..<100 where !responds() { usleep(50_000) }
            guard responds() else {
                throw KFCError.failed("start zfs-fuse", "the daemon did not respond within 5 s")
            }
        }
    }

    /// Whether a daemon responds to `zpool list`.
    public static func responds() -> Bool {
        (try? Command("zpool", ["list"]).result(timeout: 10).status) == 0
    }

    /// Stops the daemon this process started, waiting up to 10 s for it to exit, unless
    /// another process has imported pools into it meanwhile, because stopping the daemon
    /// would fault those pools.
    static func stop() {
        guard let daemon = started, daemon.isRunning else { return }
        let pools = (try? Command("zpool", ["list", "-H", "-o", "name"]).output()) ?? ""
        guard pools.isEmpty else {
            StandardError.write(
                "leaving zfs-fuse \(daemon.processIdentifier) running for other pools: "
                    + pools.split(separator: "\n").joined(separator: ", ") + "\n")
            return
        }
        kill(daemon.processIdentifier, SIGTERM)
        for _ in 0..<100 where daemon.isRunning { usleep(100_000) }
        if daemon.isRunning {
            StandardError.write("zfs-fuse \(daemon.processIdentifier) did not stop on SIGTERM\n")
        }
    }
}
