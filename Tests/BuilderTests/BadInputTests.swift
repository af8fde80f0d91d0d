import Builder
import Foundation
import KFCCore
import Stores
import TestSupport
import Testing

@Suite(
    "Build with bad input",
    .enabled(if: TestEnvironment.isRoot && TestEnvironment.hasFixtures,
        "needs root (chroot, namespaces) and the fixtures"))
struct BadInputTests {
    /// Builds and returns the error text; the store must hold nothing afterwards and no
    /// mount may remain below the fixture's folder.
    private func failure(_ fixture: BuildFixture, recipe: String, darksite: String? = TestEnvironment.fixtures)
        throws -> KFCError
    {
        var caught: KFCError?
        do {
            _ = try fixture.build(recipe, darksite: darksite)
        } catch {
            caught = error.asKFCError()
        }
        #expect(try fixture.storeContents() == [])
        #expect(mountPoints(below: fixture.top) == [])
        return try #require(caught)
    }

    @Test("wrong source digest names the file and both digests")
    func wrongDigest() throws {
        let fixture = try BuildFixture()
        defer { fixture.remove() }
        let wrong = String(repeating: "e", count: 64)
        let recipe = try fixture.minimalRecipe {
            $0.replacingOccurrences(of: TestEnvironment.alpineSHA256, with: wrong)
        }
        let error = try failure(fixture, recipe: recipe)
        #expect(error.description.contains("alpine-minirootfs-3.20.3-x86_64.tar.gz"))
        #expect(error.description.contains("expected \(wrong)"))
        #expect(error.description.contains("got \(TestEnvironment.alpineSHA256)"))
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: "\(fixture.cache)/sha256"))
        #expect(cached?.contains(TestEnvironment.alpineSHA256) != true)
    }

    @Test("unknown recipe key is reported at its line and column")
    func unknownKey() throws {
        let fixture = try BuildFixture()
        defer { fixture.remove() }
        let recipe = try fixture.minimalRecipe { "colour: blue\n" + $0 }
        let error = try failure(fixture, recipe: recipe)
        #expect(error.description.hasPrefix("\(recipe):1:1: unknown key 'colour'"))
    }

    @Test("failing setup step gives its status and last output")
    func failingSetup() throws {
        let fixture = try BuildFixture()
        defer { fixture.remove() }
        let recipe = try fixture.minimalRecipe {
            $0.replacingOccurrences(
                of: "  set -eu\n", with: "  set -eu\n  echo 'no such tool here' >&2\n  exit 42\n")
        }
        let error = try failure(fixture, recipe: recipe)
        #expect(error.description.contains("setup step 'setup'"))
        #expect(error.description.contains("status 42"))
        #expect(error.details.contains("no such tool here"))
    }

    @Test("file missing from the darksite and unreachable is an error naming both")
    func missingDarksiteFile() throws {
        let fixture = try BuildFixture()
        defer { fixture.remove() }
        let empty = "\(fixture.top)/empty-darksite"
        try FileSystem.createDirectory(empty)
        let recipe = try fixture.minimalRecipe {
            $0.replacingOccurrences(
                of: "https://dl-cdn.alpinelinux.org/alpine/v3.20/releases/x86_64/",
                with: "file://\(fixture.top)/nowhere/")
        }
        let error = try failure(fixture, recipe: recipe, darksite: empty)
        #expect(error.description.contains("alpine-minirootfs-3.20.3-x86_64.tar.gz is not in the darksite"))
    }

    @Test("bzImage given as the kernel is refused with a hint to extract it")
    func bzImageKernel() throws {
        let fixture = try BuildFixture()
        defer { fixture.remove() }
        let bzImage = "\(TestEnvironment.fixtures)/bzImage-6.1.192-microvm-x86_64-gzip"
        let digest = try Digest.ofFile(bzImage).hex
        let recipe = try fixture.minimalRecipe { text in
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let kernelLine = lines.firstIndex { $0.hasPrefix("kernel:") } ?? lines.count
            lines = Array(lines[..<kernelLine])
            return lines.joined(separator: "\n") + "\n"
                + "kernel:\n  url: file://\(bzImage)\n  sha256: \(digest)\n"
        }
        let error = try failure(fixture, recipe: recipe)
        #expect(error.description.contains("bzImage"))
        #expect(error.description.contains("kernel extract"))
    }
}
