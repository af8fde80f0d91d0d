import Ext4
import Foundation
import KFCCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("ext4 sparse and large files")
struct SparseFileTests {
    @Test(
        "sparse 5 GiB file keeps holes",
        .enabled(if: TestEnvironment.hasTools("e2fsck"), "needs e2fsck"))
    func largeSparseFile() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-sparse")
        defer { try? FileSystem.remove(folder) }
        let source = folder + "/tree"
        try FileSystem.createDirectory(source)
        let size: Int64 = 5 << 30
        let pieces: [(Int64, [UInt8])] = [
            (0, Array("first".utf8)), (3 << 30, Array("past three GiB".utf8)),
            (size - 4, Array("last".utf8)),
        ]
        try TreeBuilder(root: source).sparseFile("huge", size: size, pieces: pieces)

        let image = folder + "/sparse.ext4"
        let summary = try Ext4Writer.write(
            directory: source, to: image, options: Ext4Options(epoch: 1_000), logger: .silent)
        #expect(summary.bytes > size)
        let check = try checkImage(image)
        #expect(check.status == 0, "e2fsck -fn found problems:\n\(check.output)")

        // The image file itself stays sparse: far less allocated than its size.
        var info = stat()
        #expect(stat(image, &info) == 0)
        #expect(Int64(info.st_blocks) * 512 < 200 << 20)

        let reader = try Ext4Image(path: image)
        let entry = try reader.stat("/huge")
        #expect(entry.size == size)
        #expect(entry.allocatedBytes <= 3 * 4096 + 4096)
        for (offset, bytes) in pieces {
            let data = try reader.read("/huge", offset: offset, length: bytes.count)
            #expect(Array(data) == bytes, "bytes at \(offset)")
        }
        let hole = try reader.read("/huge", offset: 1 << 30, length: 4096)
        #expect(hole == Data(count: 4096))
    }

    @Test(
        "3,000 extents need a two-level extent tree",
        .enabled(if: TestEnvironment.hasTools("e2fsck"), "needs e2fsck"))
    func manyExtents() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-extents")
        defer { try? FileSystem.remove(folder) }
        let source = folder + "/tree"
        try FileSystem.createDirectory(source)
        // One data block in every other block: each is its own extent.
        let pieces = (0..<3000).map { (Int64($0) * 8192, Array("block \($0)".utf8)) }
        try TreeBuilder(root: source).sparseFile("fragmented", size: 3000 * 8192, pieces: pieces)

        let image = folder + "/extents.ext4"
        _ = try Ext4Writer.write(
            directory: source, to: image, options: Ext4Options(epoch: 1_000), logger: .silent)
        let check = try checkImage(image)
        #expect(check.status == 0, "e2fsck -fn found problems:\n\(check.output)")
        let content = try Ext4Image(path: image).read("/fragmented")
        let expected = try FileSystem.read(source + "/fragmented")
        #expect(content == expected)
    }
}
