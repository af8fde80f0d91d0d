import Foundation
import KFCCore
import Provisioning
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Whether `zpool list` succeeds, so a ZFS daemon runs and pools can be made on files.
func zfsAvailable() -> Bool {
    guard TestEnvironment.isRoot, TestEnvironment.hasTools("zpool", "zfs") else { return false }
    return (try? Command("zpool", ["list"]).result(timeout: 10).status) == 0
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
        .enabled(if: zfsAvailable(), "needs root and a running ZFS daemon"))
    func zfsDatasetsMade() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let pool = "kfcprov\(getpid())\(UInt16.random(in: 0...9999))"
        let file = "\(host.folder)/pool.img"
        try Command("truncate", ["-s", "128M", file]).run()
        try Command("zpool", ["create", pool, file]).run()
        defer { _ = try? Command("zpool", ["destroy", "-f", pool]).run() }

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
        .enabled(if: zfsAvailable(), "needs root and a running ZFS daemon"))
    func missingPool() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let config = try host.config("store: zfs:kfcabsent\(getpid())/firecracker")
        let error = #expect(throws: KFCError.self) {
            try host.provisioner(config, live: true, only: ["storage"]).apply()
        }
        #expect(error?.description.contains("ZFS pool kfcabsent\(getpid()) not found") == true)
    }
}
