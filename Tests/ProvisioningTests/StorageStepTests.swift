import Foundation
import KFCCore
import Provisioning
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Whether the ZFS tests run: root, the zfs tools, and a zfs-fuse daemon that answers or
/// can be started.
func zfsTestsEnabled() -> Bool {
    guard ZFSDaemon.available else { return false }
    return (try? ZFSDaemon.ensureRunning()) != nil
}

/// A ZFS pool on a sparse file, made for one test.
struct TestPool {
    let name = "kfcprov\(getpid())\(UInt16.random(in: 0...9999))"
    let folder: String
    var file: String { "\(folder)/pool.img" }

    /// Creates the pool, holding `ZFSTestLock` until `destroy()`.
    init() throws {
        try ZFSTestLock.acquire()
        do {
            folder = try TestEnvironment.temporaryDirectory("kfc-provision-pool")
            try Command("truncate", ["-s", "128M", "\(folder)/pool.img"]).run()
            try Command("zpool", ["create", name, "\(folder)/pool.img"]).run(timeout: 60)
        } catch {
            ZFSTestLock.release()
            throw error
        }
    }

    /// Destroys the pool, retrying while the daemon does not respond. Its folder is removed
    /// only once the pool is gone, so a pool that outlives the test keeps its file.
    func destroy() {
        defer { ZFSTestLock.release() }
        for _ in 0..<30 {
            let result = try? Command("zpool", ["destroy", "-f", name]).result(timeout: 30)
            if result?.status == 0 {
                try? FileSystem.remove(folder)
                return
            }
            sleep(1)
        }
        print("could not destroy test pool \(name); its file \(file) is kept")
    }
}

@Suite("storage step")
struct StorageStepTests {
    @Test("directory store folder is made")
    func directoryStoreFolder() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let config = try host.config("store: btrfs:/srv/golden")
        let applied = try host.provisioner(config, only: ["storage"]).apply().first?.applied
        #expect(applied == ["create folder /srv/golden (0755 0:0)"])
        #expect(FileSystem.isDirectory(host.root + "/srv/golden"))
    }

    @Test("ZFS datasets are skipped under a root")
    func zfsSkippedUnderRoot() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let config = try host.config("store: zfs:tank/firecracker")
        let outcome = try host.provisioner(config, only: ["storage"]).apply().first
        #expect(outcome?.applied.isEmpty == true)
        #expect(
            outcome?.report?.skipped.first?.hasPrefix("ZFS datasets under tank/firecracker") == true
        )
    }

    /// A pool on a sparse file made by the test and destroyed at its end, also on failure.
    @Test(
        "ZFS datasets are made on a test pool",
        .enabled(if: zfsTestsEnabled(), "needs root, zfs-fuse and /dev/fuse"))
    func zfsDatasetsMade() throws {
        let testPool = try TestPool()
        defer { testPool.destroy() }
        let pool = testPool.name
        let host = try ScratchHost()
        defer { host.remove() }

        // zfs-fuse rejects compression=lz4 (it offers on, off, lzjb, gzip and zle), hence gzip.
        let config = try host.config(
            "store: zfs:\(pool)/firecracker,compression=gzip")
        let provisioner = try host.provisioner(config, live: true, only: ["storage"])
        let applied = try provisioner.apply().first?.applied
        #expect(
            applied == [
                "create dataset \(pool)/firecracker (compression=gzip, recordsize=64K)",
                "create dataset \(pool)/firecracker/golden",
                "create dataset \(pool)/firecracker/functions",
            ])
        let properties = try Command(
            "zfs",
            [
                "get", "-H", "-p", "-o", "value", "compression,recordsize",
                "\(pool)/firecracker/golden",
            ]
        ).output()
        #expect(properties == "gzip\n65536")
        #expect(try provisioner.apply().first?.applied.isEmpty == true)

        try Command("zfs", ["set", "compression=off", "\(pool)/firecracker"]).run()
        let repaired = try provisioner.apply().first?.applied
        #expect(repaired == ["set compression=gzip on \(pool)/firecracker (was off)"])
    }

    @Test(
        "missing ZFS pool is a problem",
        .enabled(if: zfsTestsEnabled(), "needs root, zfs-fuse and /dev/fuse"))
    func missingPool() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let config = try host.config("store: zfs:kfcabsent\(getpid())/firecracker")
        let error = try ZFSTestLock.hold {
            #expect(throws: KFCError.self) {
                try host.provisioner(config, live: true, only: ["storage"]).apply()
            }
        }
        #expect(error?.description.contains("ZFS pool kfcabsent\(getpid()) not found") == true)
    }
}
