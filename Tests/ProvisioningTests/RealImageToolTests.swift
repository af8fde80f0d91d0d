import Foundation
import KFCCore
import Provisioning
import TestSupport
import Testing

/// The golden image step with the real `kfc-image` built beside the tests: it installs it,
/// builds the minimal Alpine recipe offline from the fixtures and promotes the version.
@Suite(
    "golden image with the real kfc-image",
    .enabled(
        if: TestEnvironment.isRoot && TestEnvironment.hasFixtures && BuiltProgram.folder != nil,
        "needs root, the fixtures and the kfc-image product built"))
struct RealImageToolTests {
    @Test("fresh store is built, promoted, then left alone")
    func freshStoreBuilt() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let store = "dir:\(host.folder)/store"
        let extra = """
            executables: \(BuiltProgram.folder ?? "")
            recipe: \(TestEnvironment.packageRoot)/recipes/alpine-minimal.yaml
            darksite: \(TestEnvironment.fixtures)
            store: \(store)
            """
        var options = ProvisioningOptions(root: host.root, live: true)
        options.imageToolEnvironment = ["KFC_CACHE": "\(host.folder)/cache"]
        let context = ProvisioningContext(
            config: try host.config(extra), options: options, logger: .silent)
        let provisioner = try Provisioner(context: context, only: ["executables", "golden-image"])

        let first = try provisioner.apply().last
        #expect(first?.applied.first?.hasPrefix("build golden image alpine-minimal from ") == true)
        #expect(
            first?.applied.last == "promote the new alpine-minimal version to the stable channel")
        let tool = host.root + "/usr/local/bin/kfc-image"
        let shown = try Command(tool, ["show", "alpine-minimal@stable", "--store", store]).output()
        #expect(shown.hasPrefix("version:  alpine-minimal@3.20.3-1"))

        let second = try provisioner.apply()
        #expect(second.allSatisfy { $0.applied.isEmpty })
        let finding = second.last?.report?.findings
        #expect(finding == ["alpine-minimal@stable is version 3.20.3-1"])
    }
}
