import Ext4
import Foundation
import KFCCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("ext4 fidelity from a tar archive", .serialized)
struct ArchiveFidelityTests {
    @Test(
        "pax archive round trip",
        .enabled(if: TestEnvironment.isRoot, "needs root for owners, devices and mounting"),
        .enabled(if: LoopMount.isAvailable, "needs loop devices (/dev/loop-control)"),
        .enabled(
            if: TestEnvironment.hasTools("e2fsck", "mount", "umount", "losetup", "tar"),
            "needs e2fsprogs, util-linux and GNU tar"))
    func paxArchive() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-archive-fidelity")
        defer { try? FileSystem.remove(folder) }
        let source = folder + "/tree"
        try FileSystem.createDirectory(source)
        try FidelityTree.build(in: source, bigDirectoryEntries: 2_000)
        // tar does not archive sockets.
        unlink(source + "/dev/socket")
        let expected = try TreeSnapshot(root: source)

        // With every xattr included, GNU tar also stores POSIX ACLs as system.posix_acl_*
        // xattrs, which the writer carries over.
        let archive = folder + "/tree.tar"
        try Command(
            "tar",
            [
                "--format=pax", "--xattrs", "--xattrs-include=*", "--sparse", "--numeric-owner",
                "-cf", archive, "-C", source, ".",
            ]
        ).run()
        let image = folder + "/archive.ext4"
        _ = try Ext4Writer.write(
            archive: archive, to: image, options: Ext4Options(epoch: FidelityTree.epoch),
            logger: .silent)
        try expectMountedImage(
            image, in: folder, matches: expected, epoch: FidelityTree.epoch,
            compareAccessTimes: false)
        // GNU tar's --sparse records only the data, so the holes must stay holes.
        let sparse = try Ext4Image(path: image).stat("/sparse")
        #expect(sparse.size == 64 << 20)
        #expect(sparse.allocatedBytes <= 4 * 4096)
    }
}
