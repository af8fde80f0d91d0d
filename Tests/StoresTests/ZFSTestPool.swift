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
    static var available: Bool { ZFSDaemon.available }

    /// Creates a pool of `megabytes` on a sparse file, starting the daemon when needed.
    ///
    /// The pool holds `ZFSTestLock` until `destroy()`, so ZFS tests run one at a time.
    init(megabytes: Int = 256) throws {
        try ZFSTestLock.acquire()
        do {
            try ZFSDaemon.ensureRunning()
        } catch {
            ZFSTestLock.release()
            throw error
        }
        name = "kfct\(getpid())x\(UInt32.random(in: 0...UInt32.max))"
        do {
            folder = try TestEnvironment.temporaryDirectory("kfc-zfs")
        } catch {
            ZFSTestLock.release()
            throw error
        }
        let file = "\(folder)/pool.img"
        do {
            try Command("truncate", ["-s", "\(megabytes)M", file]).run()
            try Command("zpool", ["create", "-m", "\(folder)/mnt", name, file]).run()
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
        ZFSTestLock.release()
    }
}
