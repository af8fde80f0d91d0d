import Ext4
import Foundation
import KFCCore
import TestSupport
import Testing

@Suite("ext4 fidelity against a kernel mount", .serialized)
struct FidelityTests {
    @Test(
        "every entry kind round trip",
        .enabled(if: TestEnvironment.isRoot, "needs root for owners, devices and mounting"),
        .enabled(if: LoopMount.isAvailable, "needs loop devices (/dev/loop-control)"),
        .enabled(
            if: TestEnvironment.hasTools("e2fsck", "mount", "umount", "losetup"),
            "needs e2fsprogs and util-linux"))
    func everyKind() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-fidelity")
        defer { try? FileSystem.remove(folder) }
        let source = folder + "/tree"
        try FileSystem.createDirectory(source)
        try FidelityTree.build(in: source)
        let expected = try TreeSnapshot(root: source)

        let image = folder + "/rootfs.ext4"
        let options = Ext4Options(label: "fidelity", epoch: FidelityTree.epoch)
        let summary = try Ext4Writer.write(
            directory: source, to: image, options: options, logger: .silent)
        #expect(summary.files == expected.entries.count - 1)
        try expectMountedImage(image, in: folder, matches: expected, epoch: FidelityTree.epoch)
    }

    @Test(
        "Alpine round trip from folder and archive",
        .enabled(if: TestEnvironment.isRoot, "needs root to unpack owners and to mount"),
        .enabled(if: LoopMount.isAvailable, "needs loop devices (/dev/loop-control)"),
        .enabled(if: TestEnvironment.hasFixtures, "needs the fixture folder"),
        .enabled(
            if: TestEnvironment.hasTools("e2fsck", "mount", "tar"), "needs e2fsprogs, mount, tar"))
    func alpine() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-alpine")
        defer { try? FileSystem.remove(folder) }
        let source = folder + "/tree"
        try FileSystem.createDirectory(source)
        try Command(
            "tar", ["-xpzf", TestEnvironment.alpineTarball, "-C", source, "--numeric-owner"]
        ).run()
        let expected = try TreeSnapshot(root: source)
        // The archive's newest time, so no time is clamped.
        let epoch: Int64 = 1_800_000_000

        let fromFolder = folder + "/folder.ext4"
        _ = try Ext4Writer.write(
            directory: source, to: fromFolder, options: Ext4Options(epoch: epoch), logger: .silent)
        try expectMountedImage(fromFolder, in: folder, matches: expected, epoch: epoch)

        let fromArchive = folder + "/archive.ext4"
        let summary = try Ext4Writer.write(
            archive: TestEnvironment.alpineTarball, to: fromArchive,
            options: Ext4Options(epoch: epoch), logger: .silent)
        #expect(summary.files == 517)
        try expectMountedImage(
            fromArchive, in: folder, matches: expected, epoch: epoch, compareAccessTimes: false)
    }
}

/// Checks `image` with `e2fsck -fn`, mounts it read-only and compares it with `expected`.
func expectMountedImage(
    _ image: String, in folder: String, matches expected: TreeSnapshot, epoch: Int64,
    compareAccessTimes: Bool = true
) throws {
    let check = try checkImage(image)
    #expect(check.status == 0, "e2fsck -fn found problems:\n\(check.output)")
    let mount = try LoopMount(image: image, under: folder)
    defer { mount.unmount() }
    var actual = try TreeSnapshot(root: mount.point)
    var wanted = expected
    if !compareAccessTimes {
        for key in actual.entries.keys {
            actual.entries[key]?.access = .init(seconds: 0, nanoseconds: 0)
        }
        for key in wanted.entries.keys {
            wanted.entries[key]?.access = .init(seconds: 0, nanoseconds: 0)
        }
    }
    expectSameTree(wanted, actual, epoch: epoch)
}
