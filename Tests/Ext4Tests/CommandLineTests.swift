import Foundation
import KFCCore
import TestSupport
import Testing

@Suite(
    "kfc-image mkfs, ls and cat",
    .enabled(if: TestEnvironment.executable("kfc-image") != nil, "kfc-image is not built"))
struct CommandLineTests {
    /// Runs the built kfc-image with `arguments` and `environment`, logging errors only.
    private func run(_ arguments: [String], environment: [String: String] = [:]) throws
        -> CommandResult
    {
        var command = Command(TestEnvironment.executable("kfc-image") ?? "kfc-image", arguments)
        command.environment = environment.merging(["KFC_LOG": "error"]) { $1 }
        return try command.result()
    }

    private func makeTree(_ folder: String) throws -> String {
        let source = folder + "/tree"
        try FileSystem.createDirectory(source)
        let tree = TreeBuilder(root: source)
        try tree.directory("etc")
        try tree.file("etc/hostname", Array("golden\n".utf8))
        try tree.times(Array("etc/hostname".utf8), seconds: 1_600_000_000, nanoseconds: 0)
        try tree.symlink(Array("hostname".utf8), to: Array("etc/hostname".utf8))
        return source
    }

    @Test("mkfs then ls and cat")
    func roundTrip() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-cli")
        defer { try? FileSystem.remove(folder) }
        let source = try makeTree(folder)
        let image = folder + "/cli.ext4"
        let mkfs = try run(["mkfs", source, image, "--label", "cli", "--epoch", "1700000000"])
        #expect(mkfs.status == 0, "stderr: \(mkfs.errorText)")
        #expect(mkfs.outputText.contains("3 entries"))

        let listing = try run(["ls", image, "/"])
        #expect(listing.status == 0)
        let lines = listing.outputText.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.first?.hasPrefix("drwxr-xr-x") == true)
        #expect(lines.contains { $0.hasSuffix("hostname -> etc/hostname") })

        let cat = try run(["cat", image, "/hostname"])
        #expect(cat.status == 0)
        #expect(cat.output == Data("golden\n".utf8))
    }

    @Test("epoch from SOURCE_DATE_EPOCH")
    func sourceDateEpoch() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-cli-epoch")
        defer { try? FileSystem.remove(folder) }
        let source = try makeTree(folder)
        let first = folder + "/first.ext4"
        let second = folder + "/second.ext4"
        let environment = ["SOURCE_DATE_EPOCH": "1500000000"]
        #expect(try run(["mkfs", source, first], environment: environment).status == 0)
        #expect(try run(["mkfs", source, second], environment: environment).status == 0)
        #expect(try Digest.ofFile(first) == Digest.ofFile(second))
        let listing = try run(["ls", first, "/etc"]).outputText
        // 1600000000 is newer than the epoch, so it is clamped to 2017-07-14T02:40:00Z.
        #expect(listing.contains("2017-07-14T02:40:00Z hostname"))
    }

    @Test("bad arguments exit with usage or error codes")
    func badArguments() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-cli-bad")
        defer { try? FileSystem.remove(folder) }
        let source = try makeTree(folder)
        let image = folder + "/bad.ext4"
        let badSize = try run(["mkfs", source, image, "--size", "lots"])
        #expect(badSize.status == 64)
        #expect(badSize.errorText.contains("invalid --size 'lots'"))
        let missing = try run(["mkfs", folder + "/absent", image])
        #expect(missing.status == 1)
        #expect(missing.errorText.contains("absent"))
        let notFound = try run(["cat", folder + "/absent.ext4", "/x"])
        #expect(notFound.status == 1)
        #expect(!FileSystem.exists(image))
    }
}
