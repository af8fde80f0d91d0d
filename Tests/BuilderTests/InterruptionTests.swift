import Foundation
import KFCCore
import Stores
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(
    "Interrupted build",
    .enabled(if: TestEnvironment.isRoot && TestEnvironment.hasFixtures
        && TestEnvironment.executable("kfc-image") != nil,
        "needs root, the fixtures and the built kfc-image"))
struct InterruptionTests {
    /// Starts a build whose setup sleeps for `seconds` (a value unique to the test, so its
    /// process can be found), waits until the step runs, then sends `signal`.
    private func interruptedBuild(signal: Int32, seconds: Int) throws -> (BuildFixture, Int32) {
        let fixture = try BuildFixture()
        let recipe = try fixture.minimalRecipe {
            $0.replacingOccurrences(of: "  set -eu\n", with: "  set -eu\n  sleep \(seconds)\n")
        }
        let build = Process()
        build.executableURL = URL(fileURLWithPath: Command.which("env") ?? "/usr/bin/env")
        // Test threads block SIGTERM and children inherit the mask; env resets it.
        build.arguments = [
            "--default-signal", TestEnvironment.executable("kfc-image") ?? "kfc-image", "build",
            recipe, "--store", "dir:\(fixture.top)/store", "--cache", fixture.cache,
            "--darksite", TestEnvironment.fixtures,
        ]
        build.standardOutput = FileHandle.nullDevice
        build.standardError = FileHandle.nullDevice
        try build.run()
        for _ in 0..<200 where stepCount(seconds) == 0 { usleep(50_000) }
        #expect(stepCount(seconds) == 1, "the setup step should be running before the signal")
        kill(build.processIdentifier, signal)
        build.waitUntilExit()
        return (fixture, build.terminationStatus)
    }

    /// Counts the processes running `sleep SECONDS`.
    private func stepCount(_ seconds: Int) -> Int {
        let result = try? Command("pgrep", ["-f", "-x", "sleep \(seconds)"]).result()
        return result?.outputText.split(separator: "\n").count ?? 0
    }

    @Test("SIGTERM stops the step and leaves no version")
    func terminated() throws {
        let (fixture, status) = try interruptedBuild(signal: SIGTERM, seconds: 317)
        defer { fixture.remove() }
        #expect(status == 128 + SIGTERM)
        for _ in 0..<50 where stepCount(317) > 0 { usleep(100_000) }
        #expect(stepCount(317) == 0)
        #expect(try fixture.storeContents() == [])
        #expect(mountPoints(below: fixture.top) == [])
    }

    @Test("SIGKILL of the build also ends its step")
    func killed() throws {
        let (fixture, _) = try interruptedBuild(signal: SIGKILL, seconds: 319)
        defer { fixture.remove() }
        for _ in 0..<50 where stepCount(319) > 0 { usleep(100_000) }
        #expect(stepCount(319) == 0)
        #expect(try fixture.store.versions(name: nil).isEmpty)
        #expect(mountPoints(below: fixture.top) == [])
    }
}
