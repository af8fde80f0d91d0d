import Foundation
import KFCCore
import Provisioning
import TestSupport
import Testing

/// The golden image step against a small fake `kfc-image`: a shell script that keeps its
/// "store" in a folder and records each call, installed by the executables step like the
/// real one. The real build and store commands are tested with their own targets.
@Suite("golden image step")
struct GoldenImageStepTests {
    /// The fake: `show NAME` prints the newest version, `show NAME@stable` the channel's,
    /// `build` adds version 3.20.3-1, `promote NAME@V stable` sets the channel.
    static func fakeImageTool(state: String) -> String {
        "state=\(state)\n" + fakeImageBody
    }

    static let fakeImageBody = #"""
        mkdir -p "$state"
        echo "$*" >> "$state/calls"
        case "$1" in
        show)
            case "$2" in
            *@stable) file="$state/stable" ;;
            *) file="$state/newest" ;;
            esac
            [ -f "$file" ] || { echo "kfc-image: error: $2: not found" >&2; exit 1; }
            printf '{"name": "tiny", "version": "%s"}\n' "$(cat "$file")"
            ;;
        build) echo 3.20.3-1 > "$state/newest" ;;
        promote) echo "${2#*@}" > "$state/stable" ;;
        --help) echo "usage: kfc-image" ;;
        *) exit 64 ;;
        esac
        """#

    static let recipe = """
        name: tiny
        version: 3.20.3
        source:
          url: https://example.org/alpine-minirootfs-3.20.3-x86_64.tar.gz
          sha256: \(TestEnvironment.alpineSHA256)
        """

    func prepare() throws -> ScratchHost {
        let host = try ScratchHost()
        try ScratchHost.script(
            "\(host.executables)/kfc-image",
            GoldenImageStepTests.fakeImageTool(state: "\(host.folder)/store-state"))
        try FileSystem.writeAtomically(
            Data(GoldenImageStepTests.recipe.utf8), to: "\(host.folder)/tiny.yaml")
        return host
    }

    func provisioner(_ host: ScratchHost) throws -> Provisioner {
        let extra =
            "recipe: \(host.folder)/tiny.yaml\ndarksite: \(host.folder)\n"
            + "store: dir:\(host.folder)/store"
        return try host.provisioner(
            try host.config(extra), live: true, only: ["executables", "golden-image"])
    }

    func calls(_ host: ScratchHost) throws -> [String] {
        let text = String(
            decoding: try FileSystem.read("\(host.folder)/store-state/calls"),
            as: UTF8.self)
        return text.split(separator: "\n").map(String.init)
    }

    @Test("empty store is built and promoted")
    func emptyStoreBuilt() throws {
        let host = try prepare()
        defer { host.remove() }
        let outcome = try provisioner(host).apply().last
        #expect(
            outcome?.applied == [
                "build golden image tiny from \(host.folder)/tiny.yaml",
                "promote the new tiny version to the stable channel",
            ])
        let store = "--store dir:\(host.folder)/store"
        let commands = try calls(host).filter { !$0.hasPrefix("show") && $0 != "--help" }
        #expect(
            commands == [
                "build \(host.folder)/tiny.yaml --darksite \(host.folder) \(store)",
                "promote tiny@3.20.3-1 stable \(store)",
            ])
    }

    @Test("second apply builds nothing")
    func secondApplyBuildsNothing() throws {
        let host = try prepare()
        defer { host.remove() }
        let provisioner = try provisioner(host)
        _ = try provisioner.apply()
        let before = try calls(host).count

        let outcome = try provisioner.apply().last
        #expect(outcome?.applied.isEmpty == true)
        #expect(outcome?.report?.findings == ["tiny@stable is version 3.20.3-1"])
        let after = try calls(host).dropFirst(before)
        #expect(Array(after) == ["show tiny@stable --json --store dir:\(host.folder)/store"])
    }

    @Test("existing version is only promoted")
    func existingVersionPromoted() throws {
        let host = try prepare()
        defer { host.remove() }
        try FileSystem.createDirectory("\(host.folder)/store-state")
        try FileSystem.writeAtomically(
            Data("3.20.3-4\n".utf8),
            to: "\(host.folder)/store-state/newest")
        let outcome = try provisioner(host).apply().last
        #expect(outcome?.applied == ["promote tiny@3.20.3-4 to the stable channel"])
        #expect(try !calls(host).contains { $0.hasPrefix("build") })
    }

    @Test("failed build stops the step")
    func failedBuildStops() throws {
        let host = try prepare()
        defer { host.remove() }
        let fake = GoldenImageStepTests.fakeImageTool(state: "\(host.folder)/store-state")
        let failing = fake.replacingOccurrences(
            of: "build) echo 3.20.3-1 > \"$state/newest\" ;;",
            with: "build) echo 'kfc-image: error: fetch failed' >&2; exit 1 ;;")
        try ScratchHost.script("\(host.executables)/kfc-image", failing)
        let error = #expect(throws: KFCError.self) { try provisioner(host).apply() }
        let message = error?.description ?? ""
        #expect(message.hasPrefix("step golden-image: build golden image tiny"))
        #expect(message.contains("exited with status 1: kfc-image: error: fetch failed"))
        #expect(!FileSystem.exists("\(host.folder)/store-state/stable"))
    }

    @Test("missing recipe is a problem")
    func missingRecipe() throws {
        let host = try prepare()
        defer { host.remove() }
        try FileSystem.remove("\(host.folder)/tiny.yaml")
        let outcomes = try provisioner(host).inspect()
        let problems = outcomes.last?.report?.problems ?? []
        #expect(
            problems == [
                "recipe \(host.folder)/tiny.yaml: no such file (set recipe in the host config)"
            ])
    }

    @Test("missing kfc-image is pending, then an error")
    func missingImageTool() throws {
        let host = try prepare()
        defer { host.remove() }
        let extra = "recipe: \(host.folder)/tiny.yaml"
        let provisioner = try host.provisioner(
            try host.config(extra), live: true, only: ["golden-image"])
        let planned = provisioner.inspect().first?.report
        #expect(planned?.problems.isEmpty == true)
        #expect(planned?.changes.first?.summary.hasSuffix("/usr/local/bin/kfc-image") == true)

        let error = #expect(throws: KFCError.self) { try provisioner.apply() }
        #expect(
            error?.description.contains("kfc-image: not installed; run the executables") == true)
    }
}
