import Foundation
import KFCCore
import Stores
import TestSupport
import Testing

@Suite(
    "kfc-image store commands",
    .enabled(if: TestEnvironment.executable("kfc-image") != nil, "kfc-image is not built"))
struct StoreCommandLineTests {
    let root: String
    let spec: String

    init() throws {
        root = try TestEnvironment.temporaryDirectory("kfc-store-cli")
        spec = "dir:\(root)/store"
    }

    /// Runs the built kfc-image with `arguments` against the test store.
    private func run(_ arguments: [String], input: String? = nil, output: String? = nil)
        throws -> CommandResult
    {
        var command = Command(
            TestEnvironment.executable("kfc-image") ?? "kfc-image", arguments + ["--store", spec])
        command.environment = ["KFC_LOG": "error"]
        let inputHandle = try input.map {
            try FileHandle(forReadingFrom: URL(fileURLWithPath: $0))
        }
        let outputHandle = try output.map { path -> FileHandle in
            FileManager.default.createFile(atPath: path, contents: nil)
            return try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        }
        defer {
            try? inputHandle?.close()
            try? outputHandle?.close()
        }
        return try command.result(input: inputHandle, outputTo: outputHandle)
    }

    @Test("list, show, promote, rollback and rm")
    func channelsAndVersions() throws {
        defer { try? removeStore(root) }
        let store = try DirectoryStore(root: "\(root)/store", logger: .silent)
        try FakeVersions.publish(store)
        try FakeVersions.publish(store, content: "two")

        let promote = try run(["promote", "alpine@3.20.3-1", "stable"])
        #expect(promote.status == 0, "stderr: \(promote.errorText)")
        #expect(promote.outputText == "alpine@stable -> 3.20.3-1\n")
        let second = try run(["promote", "alpine@3.20.3-2", "stable"])
        #expect(second.outputText == "alpine@stable -> 3.20.3-2 (was 3.20.3-1)\n")

        let list = try run(["list"])
        let lines = list.outputText.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.last?.hasSuffix("unverified  [stable]") == true)

        let show = try run(["show", "alpine@stable", "--json"])
        let manifest = try VersionManifest.decode(show.output)
        #expect(manifest.version == "3.20.3-2")
        #expect(manifest.image.path.hasPrefix(root))

        let rollback = try run(["rollback", "alpine", "stable"])
        #expect(rollback.outputText == "alpine@stable -> 3.20.3-1\n")
        let rejected = try run(["rm", "alpine@3.20.3-1"])
        #expect(rejected.status == 1)
        #expect(rejected.errorText.contains("channels point at it: stable"))
        let removed = try run(["rm", "alpine@3.20.3-2"])
        #expect(removed.status == 0)
        #expect(try store.versions(name: "alpine").map(\.version) == ["3.20.3-1"])
    }

    @Test("send, receive and clone")
    func replicationAndClone() throws {
        defer { try? removeStore(root) }
        let store = try DirectoryStore(root: "\(root)/store", logger: .silent)
        let sent = try FakeVersions.publish(store)
        let stream = "\(root)/alpine.stream"
        let send = try run(["send", "alpine@3.20.3-1"], output: stream)
        #expect(send.status == 0, "stderr: \(send.errorText)")

        let again = try run(["receive"], input: stream)
        #expect(again.status == 1)
        #expect(again.errorText.contains("exists already"))

        var command = Command(
            TestEnvironment.executable("kfc-image") ?? "kfc-image",
            ["receive", "--store", "dir:\(root)/other"])
        command.environment = ["KFC_LOG": "error"]
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: stream))
        defer { try? input.close() }
        let receive = try command.result(input: input)
        #expect(receive.status == 0, "stderr: \(receive.errorText)")
        #expect(receive.outputText == "alpine@3.20.3-1\n")
        let other = try DirectoryStore(root: "\(root)/other", logger: .silent)
        try expectSameTree(sent, try other.manifest(VersionReference(parsing: "alpine")))

        let clone = try run(["clone", "alpine", "\(root)/vm1"])
        #expect(clone.outputText == "\(root)/vm1\n")
        #expect(FileSystem.exists("\(root)/vm1/rootfs/etc/release"))
        let gc = try run(["gc"])
        #expect(gc.status == 0)
        #expect(gc.outputText.isEmpty)
    }

    @Test("usage errors exit with 64", arguments: [
        ["promote", "alpine", "stable"], ["send"], ["push", "alpine@1-1", "host"],
        ["list", "--bogus"], ["rm", "alpine"],
    ])
    func usageErrors(arguments: [String]) throws {
        defer { try? removeStore(root) }
        let result = try run(arguments)
        #expect(result.status == 64, "stderr: \(result.errorText)")
    }
}
