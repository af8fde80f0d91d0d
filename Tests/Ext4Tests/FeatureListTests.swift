import Ext4
import Foundation
import KFCCore
import TestSupport
import Testing

@Suite("ext4 feature lists")
struct FeatureListTests {
    static let lists: [[String]] = [
        Ext4Options.defaultFeatures,
        ["extent", "ext_attr", "filetype", "sparse_super", "large_file"],
        ["extent", "ext_attr", "dir_index", "filetype", "has_journal", "huge_file"],
        ["extent", "ext_attr", "dir_index", "64bit", "flex_bg", "metadata_csum"],
        ["extents", "ext_attr", "metadata_csum", "has_journal"],
    ]

    @Test(
        "feature list passes e2fsck",
        .enabled(if: TestEnvironment.hasTools("e2fsck"), "needs e2fsck"),
        arguments: lists)
    func featureList(features: [String]) throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-features")
        defer { try? FileSystem.remove(folder) }
        let source = folder + "/tree"
        try FileSystem.createDirectory(source)
        let tree = TreeBuilder(root: source)
        try tree.directory("wide")
        for index in 0..<1500 { try tree.file("wide/entry-number-\(index)") }
        try tree.file("data", Array("payload".utf8))
        try tree.hardLink("data-again", to: "data")
        try tree.attribute(Array("data".utf8), "user.note", [UInt8](repeating: 0x41, count: 500))
        try tree.symlink(Array("slow".utf8), to: [UInt8](repeating: 0x62, count: 200))

        let image = folder + "/features.ext4"
        _ = try Ext4Writer.write(
            directory: source, to: image, options: Ext4Options(epoch: 1_000, features: features),
            logger: .silent)
        let check = try checkImage(image)
        #expect(check.status == 0, "e2fsck -fn found problems:\n\(check.output)")

        let reader = try Ext4Image(path: image)
        let expected = features.map { $0 == "extents" ? "extent" : $0 }
        #expect(Set(reader.features) == Set(expected))
        #expect(try reader.list("/wide").count == 1500)
        #expect(try reader.read("/data-again") == Data("payload".utf8))
        #expect(try reader.stat("/data").linkCount == 2)
        #expect(try reader.attributes("/data").first?.value.count == 500)
        #expect(try reader.readlink("/slow").count == 200)
    }
}
