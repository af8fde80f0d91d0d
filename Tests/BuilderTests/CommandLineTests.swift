import Foundation
import KFCCore
import Stores
import TestSupport
import Testing

@Suite(
    "kfc-image command line",
    .enabled(if: TestEnvironment.executable("kfc-image") != nil, "kfc-image is not built"))
struct CommandLineTests {
    /// Runs the built kfc-image with `arguments` and a quiet log.
    private func run(_ arguments: [String]) throws -> CommandResult {
        var command = Command(TestEnvironment.executable("kfc-image") ?? "kfc-image", arguments)
        command.environment = ["KFC_LOG": "error"]
        return try command.result()
    }

    @Test("unknown option exits 64 with a usage hint")
    func unknownOption() throws {
        let result = try run(["build", "alpine-minimal", "--bogus"])
        #expect(result.status == 64)
        #expect(result.errorText.hasPrefix("kfc-image: error: kfc-image build: unknown option '--bogus'"))
    }

    @Test("bad recipe exits 1 with one line naming file, line and column")
    func badRecipe() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let recipe = "\(folder)/bad.yaml"
        try FileSystem.writeAtomically(Data("name: x\nversion: 1\nsize: 3\n".utf8), to: recipe)
        let result = try run(["build", recipe, "--store", "dir:\(folder)/store"])
        #expect(result.status == 1)
        let lines = result.errorText.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("kfc-image: error: \(recipe):3:1: unknown key 'size'") == true)
        #expect(result.output.isEmpty)
    }

    @Test(
        "build prints the version, and show and list read it back",
        .enabled(if: TestEnvironment.isRoot && TestEnvironment.hasFixtures, "needs root and fixtures"))
    func buildShowList() throws {
        let fixture = try BuildFixture()
        defer { fixture.remove() }
        let recipe = try fixture.minimalRecipe()
        let store = "dir:\(fixture.top)/store"
        let build = try run([
            "build", recipe, "--store", store, "--darksite", TestEnvironment.fixtures,
            "--cache", fixture.cache,
        ])
        #expect(build.status == 0, "stderr: \(build.errorText)")
        #expect(build.outputText == "alpine-minimal@3.20.3-1\n")

        let show = try run(["show", "alpine-minimal", "--store", store, "--json"])
        #expect(show.status == 0)
        let manifest = try VersionManifest.decode(show.output)
        #expect(manifest.version == "3.20.3-1")
        #expect(FileSystem.exists(manifest.image.path))

        let list = try run(["list", "--store", store])
        #expect(list.outputText.contains("alpine-minimal"))
        #expect(list.outputText.contains("3.20.3-1"))

        let rebuild = try run([
            "rebuild", "alpine-minimal@3.20.3-1", "--store", store, "--darksite",
            TestEnvironment.fixtures, "--cache", fixture.cache,
        ])
        #expect(rebuild.status == 0, "stdout: \(rebuild.outputText) stderr: \(rebuild.errorText)")
        #expect(rebuild.outputText.contains("rebuilt to the same image"))
    }

    @Test(
        "verify and rebuild reject an altered image",
        .enabled(if: TestEnvironment.isRoot && TestEnvironment.hasFixtures, "needs root and fixtures"))
    func alteredImage() throws {
        let fixture = try BuildFixture()
        defer { fixture.remove() }
        let manifest = try fixture.build(try fixture.minimalRecipe())
        let handle = try #require(FileHandle(forUpdatingAtPath: manifest.image.path))
        try handle.seek(toOffset: 5000)
        try handle.write(contentsOf: Data([0x5a]))
        try handle.close()

        let store = "dir:\(fixture.top)/store"
        for arguments in [
            ["verify", manifest.reference, "--store", store, "--accel", "tcg"],
            ["rebuild", manifest.reference, "--store", store, "--darksite",
             TestEnvironment.fixtures, "--cache", fixture.cache],
        ] {
            let result = try run(arguments)
            #expect(result.status == 1, "\(arguments[0])")
            #expect(result.errorText.contains("but the manifest records \(manifest.image.sha256)"),
                "\(arguments[0]): \(result.errorText)")
        }
        #expect(try fixture.store.manifest(VersionReference(parsing: manifest.reference)).verified == nil)
    }
}
