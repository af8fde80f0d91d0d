import Foundation
import KFCCore
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A zfs-fuse pool on a sparse file, made for one test and destroyed by `destroy()`.
final class ZFSTestPool {
    /// The pool name, unique per test.
    let name: String
    /// The folder holding the pool's file, its mountpoint and the store's scratch folder.
    let folder: String

    /// Whether pools can be made here: root, the zfs tools and /dev/fuse.
    static var available: Bool {
        TestEnvironment.isRoot && TestEnvironment.hasTools("zfs", "zpool", "zfs-fuse")
            && FileSystem.exists("/dev/fuse")
    }

    /// Creates a pool of `megabytes` on a sparse file, starting the daemon when needed.
    init(megabytes: Int = 256) throws {
        try ZFSDaemon.ensureRunning()
        name = "kfct\(getpid())x\(UInt32.random(in: 0...UInt32.max))"
        folder = try TestEnvironment.temporaryDirectory("kfc-zfs")
        let file = "\(folder)/pool.img"
        try Command("truncate", ["-s", "\(megabytes)M", file]).run()
        try Command("zpool", ["create", "-m", "\(folder)/mnt", name, file]).run()
        do {
            let result = try Command("zfs", ["create", "\(name)/firecracker"]).result()
            // zfs-fuse may create the dataset but fail to mount it; mount it then.
            if result.status != 0 {
                try Command("zfs", ["mount", "\(name)/firecracker"]).run()
            }
        } catch {
            destroy()
            throw error
        }
    }

    /// The store spec parent: `POOL/firecracker`.
    var parent: String { "\(name)/firecracker" }

    /// Destroys the pool (forcing unmounts) and removes its file, retrying for up to 5 s
    /// while zfs-fuse still reports a just-closed mount as busy.
    func destroy() {
        for _ in 0..<50 {
            let status = (try? Command("zpool", ["destroy", "-f", name]).result())?.status
            if status == 0 { break }
            usleep(100_000)
        }
        if (try? Command("zpool", ["list", name]).result())?.status == 0 {
            StandardError.write("could not destroy the test pool \(name)\n")
        }
        _ = try? Command("chmod", ["-R", "u+w", folder]).result()
        try? FileSystem.remove(folder)
    }
}

/// The zfs-fuse daemon: started once by the tests when it was not running, and stopped by
/// its pid when the test process exits.
enum ZFSDaemon {
    nonisolated(unsafe) private static var started: Process?
    private static let lock = NSLock()

    /// Starts zfs-fuse in the foreground as a child process unless `zpool list` succeeds.
    ///
    /// Started through `Command` in its daemonizing form, zfs-fuse left its first process a
    /// zombie and the call never returned. A foreground child also keeps its pid known.
    static func ensureRunning() throws {
        try lock.withLock {
            if started?.isRunning == true
                || (try? Command("zpool", ["list"]).result().status) == 0
            {
                return
            }
            // Test threads block SIGTERM, and a child inherits the mask, so zfs-fuse would
            // never see the SIGTERM that stops it; env (coreutils 9) unblocks and resets
            // every signal, then becomes zfs-fuse under the same pid.
            let daemon = Process()
            daemon.executableURL = URL(fileURLWithPath: Command.which("env") ?? "/usr/bin/env")
            daemon.arguments = ["--default-signal", "zfs-fuse", "--no-daemon", "--no-kstat-mount"]
            daemon.standardOutput = FileHandle.nullDevice
            daemon.standardError = FileHandle.nullDevice
            try daemon.run()
            if started == nil { atexit { ZFSDaemon.stop() } }
            started = daemon
            for _ in 0..<100 where (try? Command("zpool", ["list"]).result().status) != 0 {
                usleep(50_000)
            }
        }
    }

    /// Stops the daemon this process started, waiting up to 10 s for it to exit, unless
    /// another process has imported pools into it meanwhile (every pool of these tests is
    /// destroyed by then), because stopping the daemon would fault those pools.
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
