import Foundation
import KFCCore
import Stores
import TestSupport
import Testing

@Suite("ZFS store", .enabled(if: ZFSTestPool.available, "needs root, zfs-fuse and /dev/fuse"))
struct ZFSStoreTests {
    @Test("versions are snapshots with manifests")
    func versionsAreSnapshots() throws {
        let pool = try ZFSTestPool()
        defer { pool.destroy() }
        let store = try ZFSStore(parent: pool.parent, properties: [("compression", "gzip-9")],
            scratch: "\(pool.folder)/scratch", logger: .silent)
        let first = try FakeVersions.publish(store)
        let second = try FakeVersions.publish(store, content: "two")
        #expect(first.version == "3.20.3-1")
        #expect(second.version == "3.20.3-2")
        let snapshots = try Command("zfs", ["list", "-H", "-t", "snapshot", "-o", "name",
            "-r", pool.parent]).output()
        #expect(snapshots.contains("\(pool.parent)/golden/alpine@3.20.3-1"))
        #expect(snapshots.contains("\(pool.parent)/golden/alpine@3.20.3-2"))
        let compression = try Command("zfs", ["get", "-H", "-o", "value", "compression",
            "\(pool.parent)/golden/alpine"]).output()
        #expect(compression == "gzip-9")
        // zfs-fuse reports the mount's `readonly` as a temporary "off", so writing is the test.
        #expect(throws: KFCError.self) {
            try FileSystem.writeAtomically(Data(), to: "\(second.tree)/etc/x")
        }
        #expect(try store.versions(name: "alpine").map(\.version) == ["3.20.3-1", "3.20.3-2"])
        let newest = try store.manifest(VersionReference(parsing: "alpine"))
        #expect(newest.version == "3.20.3-2")
        #expect(try FileSystem.read("\(newest.tree)/etc/release") == Data("two".utf8))

        // Promoting the older version reads its image from a temporary clone.
        let record = try store.promote(name: "alpine", version: "3.20.3-1", channel: "stable",
            requireVerified: false)
        #expect(record.version == "3.20.3-1")
        try store.recordVerification(FakeVersions.passing, name: "alpine", version: "3.20.3-1")
        #expect(try store.manifest(VersionReference(parsing: "alpine@stable")).verified
            == FakeVersions.passing)
        let leftovers = try store.collectGarbage()
        #expect(leftovers == [])
    }

    @Test("pool rejects zstd with the property named")
    func zstdRejected() throws {
        let pool = try ZFSTestPool()
        defer { pool.destroy() }
        let store = try ZFSStore(parent: pool.parent, properties: [("compression", "zstd")],
            scratch: "\(pool.folder)/scratch", logger: .silent)
        let error = #expect(throws: KFCError.self) { try FakeVersions.publish(store) }
        #expect(error?.description.contains("compression=zstd") == true)
        #expect(error?.kind == .invalidInput)
        let datasets = try Command("zfs", ["list", "-H", "-o", "name", "-r",
            "\(pool.parent)/golden"]).output()
        #expect(datasets == "\(pool.parent)/golden")
    }

    @Test("replication between pools, full then incremental")
    func replication() throws {
        let sourcePool = try ZFSTestPool()
        defer { sourcePool.destroy() }
        let targetPool = try ZFSTestPool()
        defer { targetPool.destroy() }
        let source = try ZFSStore(parent: sourcePool.parent,
            scratch: "\(sourcePool.folder)/scratch", logger: .silent)
        let target = try ZFSStore(parent: targetPool.parent,
            scratch: "\(targetPool.folder)/scratch", logger: .silent)
        // Each version is sent while it is the newest, because zfs-fuse has no .zfs folder
        // through which the test could read older snapshots.
        let first = try FakeVersions.publish(source)
        try source.recordVerification(FakeVersions.passing, name: "alpine",
            version: first.version)
        let full = try sendToFile(source, root: sourcePool.folder, version: first.version,
            base: nil)
        let received = try receiveFile(target, full)
        #expect(received.verified == FakeVersions.passing)
        #expect(received.relativeManifest == (try source.manifest(
            VersionReference(name: "alpine", selector: first.version))).relativeManifest)
        try expectSameTree(first, received)

        let second = try publishChanged(source)
        let delta = try sendToFile(source, root: sourcePool.folder, version: second.version,
            base: first.version)
        let receivedSecond = try receiveFile(target, delta)
        #expect(receivedSecond.relativeManifest == second.relativeManifest)
        try expectSameTree(second, receivedSecond)
        #expect(try target.versions(name: "alpine").map(\.version)
            == ["3.20.3-1", "3.20.3-2"])
        #expect(throws: KFCError.self) {
            try FileSystem.writeAtomically(Data(), to: "\(receivedSecond.tree)/etc/x")
        }
    }

    @Test("cut stream publishes nothing")
    func cutStream() throws {
        let sourcePool = try ZFSTestPool()
        defer { sourcePool.destroy() }
        let targetPool = try ZFSTestPool()
        defer { targetPool.destroy() }
        let source = try ZFSStore(parent: sourcePool.parent,
            scratch: "\(sourcePool.folder)/scratch", logger: .silent)
        let target = try ZFSStore(parent: targetPool.parent,
            scratch: "\(targetPool.folder)/scratch", logger: .silent)
        let first = try FakeVersions.publish(source)
        let stream = try sendToFile(source, root: sourcePool.folder, version: first.version,
            base: nil)
        let data = try FileSystem.read(stream)
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: stream))
        let error = #expect(throws: KFCError.self) { try receiveFile(target, stream) }
        #expect(error?.description.contains("cut") == true)
        #expect(try target.versions(name: nil).isEmpty)
        let datasets = try Command("zfs", ["list", "-H", "-o", "name", "-r",
            "\(targetPool.parent)/golden"]).output()
        #expect(datasets == "\(targetPool.parent)/golden")
        #expect(try target.collectGarbage().isEmpty)
    }

    @Test("clones block removal until destroyed")
    func clonesBlockRemoval() throws {
        let pool = try ZFSTestPool()
        defer { pool.destroy() }
        let store = try ZFSStore(parent: pool.parent, scratch: "\(pool.folder)/scratch",
            logger: .silent)
        try FakeVersions.publish(store)
        try FakeVersions.publish(store, content: "two")
        let destination = "\(pool.folder)/vm1"
        let clone = try store.clone(VersionReference(parsing: "alpine@3.20.3-1"),
            to: destination)
        #expect(clone.method == "zfs-clone")
        #expect(try FileSystem.read("\(destination)/rootfs/etc/release") == Data("one".utf8))
        try FileSystem.writeAtomically(Data("vm".utf8), to: "\(destination)/rootfs/etc/vm")
        #expect(try store.clones(name: "alpine").map(\.path) == [destination])

        let error = #expect(throws: KFCError.self) {
            try store.remove(name: "alpine", version: "3.20.3-1")
        }
        #expect(error?.description.contains(clone.dataset ?? "?") == true)

        // A clone whose microVM is gone (unmounted) is unreferenced, and gc destroys it.
        try Command("zfs", ["unmount", clone.dataset ?? ""]).run()
        #expect(try store.collectGarbage().count == 1)
        try store.remove(name: "alpine", version: "3.20.3-1")
        #expect(try store.versions(name: "alpine").map(\.version) == ["3.20.3-2"])
    }

    @Test("gc rolls back a killed build")
    func garbageAfterKilledBuild() throws {
        let pool = try ZFSTestPool()
        defer { pool.destroy() }
        let store = try ZFSStore(parent: pool.parent, scratch: "\(pool.folder)/scratch",
            logger: .silent)
        let first = try FakeVersions.publish(store)
        // What a killed build leaves: the dataset writable, marked pending, half written,
        // and no build lock held.
        let dataset = "\(pool.parent)/golden/alpine"
        try Command("zfs", ["set", "readonly=off", dataset]).run()
        try Command("zfs", ["set", "kfc:pending=3.20.3-2", dataset]).run()
        let mount = (first.image.path as NSString).deletingLastPathComponent
        try FileSystem.writeAtomically(Data("half".utf8), to: "\(mount)/partial")
        let removed = try store.collectGarbage()
        #expect(removed == ["unfinished build alpine@3.20.3-2 in \(dataset)"])
        #expect(!FileSystem.exists("\(mount)/partial"))
        #expect(try store.versions(name: "alpine").map(\.version) == ["3.20.3-1"])
        #expect(try FakeVersions.publish(store).version == "3.20.3-2")
    }

    @Test("concurrent builds get distinct versions")
    func concurrentBuilds() async throws {
        let pool = try ZFSTestPool()
        defer { pool.destroy() }
        let parent = pool.parent
        let scratch = "\(pool.folder)/scratch"
        let versions = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<3 {
                group.addTask {
                    let store = try ZFSStore(parent: parent, scratch: scratch, logger: .silent)
                    return try FakeVersions.publish(store, content: "v\(index)").version
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(versions) == ["3.20.3-1", "3.20.3-2", "3.20.3-3"])
    }

    @Test("removing the last version frees the name")
    func removeLastVersion() throws {
        let pool = try ZFSTestPool()
        defer { pool.destroy() }
        let store = try ZFSStore(parent: pool.parent, scratch: "\(pool.folder)/scratch",
            logger: .silent)
        let manifest = try FakeVersions.publish(store)
        try store.remove(name: "alpine", version: manifest.version)
        #expect(try store.versions(name: nil).isEmpty)
        let datasets = try Command("zfs", ["list", "-H", "-o", "name", "-r",
            "\(pool.parent)/golden"]).output()
        #expect(datasets == "\(pool.parent)/golden")
    }

    @Test("gc destroys a killed receive's dataset")
    func garbageAfterKilledReceive() throws {
        let pool = try ZFSTestPool()
        defer { pool.destroy() }
        let store = try ZFSStore(parent: pool.parent, scratch: "\(pool.folder)/scratch",
            logger: .silent)
        // What a receive killed before its manifest was set leaves: a snapshot without one.
        let dataset = "\(pool.parent)/golden/alpine"
        try Command("zfs", ["create", dataset]).run()
        try Command("zfs", ["snapshot", "\(dataset)@3.20.3-1"]).run()
        #expect(try store.versions(name: nil).isEmpty)
        let removed = try store.collectGarbage()
        #expect(removed == [
            "snapshot without a manifest \(dataset)@3.20.3-1",
            "image dataset without versions \(dataset)",
        ])
        #expect(try store.collectGarbage().isEmpty)
    }
}
