import Ext4
import Foundation
import KFCCore
import TestSupport
import Testing

@Suite("ext4 writer rejects bad input")
struct BadInputTests {
    /// A folder with a small tree and the path of an image beside it.
    private struct Setup {
        let folder: String
        var source: String { folder + "/tree" }
        var image: String { folder + "/out.ext4" }

        init() throws {
            folder = try TestEnvironment.temporaryDirectory("kfc-ext4-bad")
            try FileSystem.createDirectory(folder + "/tree")
            // Sizing counts apparent sizes, so a sparse 100 MiB file needs 100 MiB of blocks.
            try TreeBuilder(root: folder + "/tree").sparseFile(
                "data", size: 100 << 20, pieces: [(0, [7, 7, 7])])
        }

        /// Returns the names in the folder besides the source tree, which must not include
        /// a half-written image.
        func leftovers() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0 != "tree" }
        }
    }

    private func error(_ body: () throws -> Void) -> KFCError? {
        do {
            try body()
            return nil
        } catch {
            return error as? KFCError
        }
    }

    @Test("missing source folder")
    func missingSource() throws {
        let setup = try Setup()
        defer { try? FileSystem.remove(setup.folder) }
        let failure = error {
            _ = try Ext4Writer.write(
                directory: setup.folder + "/absent", to: setup.image, options: Ext4Options(),
                logger: .silent)
        }
        #expect(failure?.kind == .notFound)
        #expect(failure?.description.contains("absent") == true)
        #expect(try setup.leftovers().isEmpty)
    }

    @Test("fixed size too small")
    func sizeTooSmall() throws {
        let setup = try Setup()
        defer { try? FileSystem.remove(setup.folder) }
        for bytes: Int64 in [1 << 20, 64 << 20] {
            let failure = error {
                _ = try Ext4Writer.write(
                    directory: setup.source, to: setup.image,
                    options: Ext4Options(size: .fixed(bytes)), logger: .silent)
            }
            #expect(failure?.kind == .invalidInput)
            #expect(failure?.description.contains("needs at least") == true)
            #expect(try setup.leftovers().isEmpty)
        }
    }

    @Test("fixed size used exactly")
    func fixedSize() throws {
        let setup = try Setup()
        defer { try? FileSystem.remove(setup.folder) }
        let summary = try Ext4Writer.write(
            directory: setup.source, to: setup.image,
            options: Ext4Options(size: .fixed(200 << 20)), logger: .silent)
        #expect(summary.bytes == 200 << 20)
        #expect(try FileSystem.size(setup.image) == 200 << 20)
    }

    @Test(
        "invalid options",
        arguments: [
            Ext4Options(epoch: 0),
            Ext4Options(epoch: -5),
            Ext4Options(label: "a label longer than sixteen bytes"),
            Ext4Options(features: ["extent", "inline_data"]),
            Ext4Options(features: ["has_journal", "64bit"]),
            Ext4Options(size: .auto(headroomPercent: -1)),
        ])
    func invalidOptions(options: Ext4Options) throws {
        let setup = try Setup()
        defer { try? FileSystem.remove(setup.folder) }
        let failure = error {
            _ = try Ext4Writer.write(
                directory: setup.source, to: setup.image, options: options, logger: .silent)
        }
        #expect(failure?.kind == .invalidInput)
        #expect(try setup.leftovers().isEmpty)
    }

    @Test("failed write keeps old image")
    func keepsOldImage() throws {
        let setup = try Setup()
        defer { try? FileSystem.remove(setup.folder) }
        try FileSystem.writeAtomically(Data("old image".utf8), to: setup.image)
        let failure = error {
            _ = try Ext4Writer.write(
                directory: setup.source, to: setup.image,
                options: Ext4Options(size: .fixed(1 << 20)), logger: .silent)
        }
        #expect(failure != nil)
        #expect(try FileSystem.read(setup.image) == Data("old image".utf8))
        #expect(try setup.leftovers() == ["out.ext4"])
    }

    @Test("missing archive")
    func missingArchive() throws {
        let setup = try Setup()
        defer { try? FileSystem.remove(setup.folder) }
        let missing = error {
            _ = try Ext4Writer.write(
                archive: setup.folder + "/none.tar", to: setup.image, options: Ext4Options(),
                logger: .silent)
        }
        #expect(missing?.kind == .notFound)
        #expect(missing?.description.contains("none.tar") == true)
        #expect(try setup.leftovers().isEmpty)
    }

    @Test("file that is not an archive")
    func invalidArchive() throws {
        let setup = try Setup()
        defer { try? FileSystem.remove(setup.folder) }
        let garbage = setup.folder + "/garbage.tar"
        try FileSystem.writeAtomically(Data(repeating: 0x42, count: 4096), to: garbage)
        let failure = error {
            _ = try Ext4Writer.write(
                archive: garbage, to: setup.image, options: Ext4Options(), logger: .silent)
        }
        #expect(failure?.kind == .invalidInput)
        #expect(failure?.description.contains("garbage.tar") == true)
        #expect(try setup.leftovers() == ["garbage.tar"])
    }

    @Test("lost+found that is a file")
    func lostAndFoundFile() throws {
        let setup = try Setup()
        defer { try? FileSystem.remove(setup.folder) }
        try TreeBuilder(root: setup.source).file("lost+found", Array("not a folder".utf8))
        let failure = error {
            _ = try Ext4Writer.write(
                directory: setup.source, to: setup.image, options: Ext4Options(),
                logger: .silent)
        }
        #expect(failure?.kind == .invalidInput)
        #expect(failure?.description.contains("lost+found") == true)
        #expect(try setup.leftovers().isEmpty)
    }

    @Test("missing target folder")
    func missingTargetFolder() throws {
        let setup = try Setup()
        defer { try? FileSystem.remove(setup.folder) }
        let failure = error {
            _ = try Ext4Writer.write(
                directory: setup.source, to: setup.folder + "/no/such/out.ext4",
                options: Ext4Options(), logger: .silent)
        }
        #expect(failure?.kind == .notFound)
    }
}
