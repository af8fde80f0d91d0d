import Foundation
import KFCCore
import Stores
import TestSupport
import Testing

/// A btrfs filesystem in a sparse file, loop-mounted for one test.
final class BtrfsTestMount {
    /// The folder holding the file and the mount.
    let folder: String
    /// Where the filesystem is mounted.
    var mount: String { "\(folder)/mnt" }

    static var available: Bool {
        TestEnvironment.isRoot && TestEnvironment.hasTools("mkfs.btrfs", "btrfs", "mount")
            && FileSystem.exists("/dev/loop-control")
    }

    init() throws {
        folder = try TestEnvironment.temporaryDirectory("kfc-btrfs")
        let file = "\(folder)/fs.img"
        try Command("truncate", ["-s", "256M", file]).run()
        try Command("mkfs.btrfs", ["-q", file]).run()
        try FileSystem.createDirectory(mount)
        // mount -o loop attaches a loop device that umount detaches again.
        try Command("mount", ["-o", "loop", file, mount]).run()
    }

    /// Unmounts (which detaches the loop device) and removes the file.
    func remove() {
        _ = try? Command("umount", [mount]).result()
        try? FileSystem.remove(folder)
    }
}

@Suite("btrfs store", .enabled(if: BtrfsTestMount.available, "needs root, btrfs-progs, loop"))
struct BtrfsStoreTests {
    @Test("versions are read-only snapshots")
    func versionsAreSnapshots() throws {
        let disk = try BtrfsTestMount()
        defer { disk.remove() }
        let store = try StoreSpec.open("btrfs:\(disk.mount)/kfc", logger: .silent)
        let manifest = try FakeVersions.publish(store)
        let folder = "\(disk.mount)/kfc/images/alpine/3.20.3-1"
        let property = try Command("btrfs", ["property", "get", "-ts", folder, "ro"]).output()
        #expect(property == "ro=true")
        #expect(throws: KFCError.self) {
            try FileSystem.writeAtomically(Data(), to: "\(manifest.tree)/etc/x")
        }
        let clone = try store.clone(VersionReference(parsing: "alpine"), to: "\(disk.mount)/vm1")
        #expect(clone.method == "btrfs-snapshot")
        try FileSystem.writeAtomically(Data("vm".utf8), to: "\(disk.mount)/vm1/rootfs/etc/x")
        #expect(try store.collectGarbage().isEmpty)
    }

    @Test("replication with btrfs send, full then incremental")
    func replication() throws {
        let disk = try BtrfsTestMount()
        defer { disk.remove() }
        let source = try StoreSpec.open("btrfs:\(disk.mount)/source", logger: .silent)
        let target = try StoreSpec.open("btrfs:\(disk.mount)/target", logger: .silent)
        let first = try FakeVersions.publish(source)
        let second = try publishChanged(source)
        let full = try sendToFile(source, root: disk.folder, version: first.version, base: nil)
        let received = try receiveFile(target, full)
        #expect(received.relativeManifest == first.relativeManifest)
        try expectSameTree(first, received)
        let delta = try sendToFile(source, root: disk.folder, version: second.version,
            base: first.version)
        let receivedSecond = try receiveFile(target, delta)
        try expectSameTree(second, receivedSecond)

        // A cut stream publishes nothing.
        let third = try FakeVersions.publish(source, content: "three")
        let stream = try sendToFile(source, root: disk.folder, version: third.version,
            base: second.version)
        let data = try FileSystem.read(stream)
        try data.prefix(data.count - 10).write(to: URL(fileURLWithPath: stream))
        #expect(throws: KFCError.self) { try receiveFile(target, stream) }
        #expect(try target.versions(name: "alpine").map(\.version)
            == ["3.20.3-1", "3.20.3-2"])
    }

    @Test("spec rejects a folder not on btrfs")
    func rejectsOtherFilesystems() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-not-btrfs")
        defer { try? FileSystem.remove(folder) }
        let error = #expect(throws: KFCError.self) {
            try StoreSpec.open("btrfs:\(folder)", logger: .silent)
        }
        #expect(error?.description.contains("not on a btrfs filesystem") == true)
    }
}
