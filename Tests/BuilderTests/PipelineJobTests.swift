import Foundation
import KFCCore
import Stores
import TestSupport
import Testing

@Suite(
    "CI golden image job",
    .enabled(if: TestEnvironment.isRoot && TestEnvironment.hasFixtures
        && TestEnvironment.executable("kfc-image") != nil,
        "needs root, the fixtures and the built kfc-image"))
struct PipelineJobTests {
    @Test("job builds, checks, rebuilds, publishes and promotes")
    func jobRuns() throws {
        let fixture = try BuildFixture()
        defer { fixture.remove() }
        let artifacts = "\(fixture.top)/artifacts"
        var job = Command(
            "bash", ["\(TestEnvironment.packageRoot)/ci/golden-image.sh", try fixture.minimalRecipe()])
        job.environment = [
            "KFC_IMAGE": TestEnvironment.executable("kfc-image") ?? "kfc-image",
            "KFC_STORE": "dir:\(fixture.top)/store", "KFC_CACHE": fixture.cache,
            "KFC_DARKSITE": TestEnvironment.fixtures, "KFC_ARTIFACTS": artifacts,
            "KFC_CHANNEL": "canary", "KFC_LOG": "warning",
        ]
        job.directory = fixture.top
        let result = try job.result()
        #expect(result.status == 0, "stderr: \(result.errorText)")

        let reference = "alpine-minimal@3.20.3-1"
        for suffix in ["manifest.json", "checks.txt", "stream"] {
            #expect(FileSystem.exists("\(artifacts)/\(reference).\(suffix)"), "\(suffix)")
        }
        let checks = String(
            decoding: (try? FileSystem.read("\(artifacts)/\(reference).checks.txt")) ?? Data(),
            as: UTF8.self)
        #expect(checks.contains("rebuilt to the same image"))
        var sums = Command("sha256sum", ["-c", "SHA256SUMS"])
        sums.directory = artifacts
        #expect(try sums.result().status == 0)

        let channel = try fixture.store.manifest(VersionReference(parsing: "alpine-minimal@canary"))
        #expect(channel.version == "3.20.3-1")
    }
}
