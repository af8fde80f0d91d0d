import Foundation
import KFCCore
import TestSupport
import Testing

@Suite("Core helpers")
struct CoreTests {
    @Test(
        "byte sizes parse with binary units",
        arguments: [
            ("200M", Int64(200) << 20), ("1G", Int64(1) << 30), ("4096", 4096), ("1.5K", 1536),
            ("2MiB", Int64(2) << 20), ("10MB", Int64(10) << 20),
        ])
    func sizes(text: String, bytes: Int64) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test("invalid byte sizes are rejected", arguments: ["", "M", "-1M", "abc", "1X"])
    func invalidSizes(text: String) {
        #expect(ByteSize.parse(text) == nil)
    }

    @Test("sha256 and sha512 match coreutils")
    func digests() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let path = "\(folder)/data"
        try Data((0..<3_000_000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: path))
        for algorithm in DigestAlgorithm.allCases {
            let expected = try Command("\(algorithm.rawValue)sum", [path]).output()
                .split(separator: " ")[0]
            #expect(try Digest.ofFile(path, algorithm).hex == String(expected))
        }
    }

    @Test("command failure names the command and shows its stderr")
    func commandFailure() {
        #expect {
            try Command("sh", ["-c", "echo first >&2; echo broken >&2; exit 3"]).run()
        } throws: { error in
            let failure = error.asKFCError()
            return failure.description == "sh -c 'echo first >&2; echo broken >&2; exit 3': "
                + "exited with status 3: broken" && failure.details == ["first"]
        }
    }

    @Test("command timeout kills the process")
    func commandTimeout() {
        let started = Date()
        #expect(throws: KFCError.self) {
            try Command("sleep", ["20"]).run(timeout: 0.5)
        }
        #expect(Date().timeIntervalSince(started) < 15)
    }

    @Test("arguments take options, flags and positionals and reject leftovers")
    func arguments() throws {
        var arguments = Arguments(
            ["alpine", "--store", "dir:/x", "--json", "--epoch=5"], command: "kfc-image build")
        let store = try arguments.option("--store")
        let epoch = try arguments.option("--epoch")
        let json = arguments.flag("--json")
        let recipe = try arguments.positional("RECIPE")
        #expect(store == "dir:/x")
        #expect(epoch == "5")
        #expect(json)
        #expect(recipe == "alpine")
        try arguments.finish()

        var extra = Arguments(["a", "--bogus"], command: "kfc-image build")
        _ = try extra.positional("RECIPE")
        #expect {
            try extra.finish()
        } throws: { error in
            "\(error)" == "kfc-image build: unknown option '--bogus'"
        }
    }

    @Test("usage errors exit 64, others 1")
    func exitCodes() {
        #expect(ErrorReport.report(KFCError.usage("x"), program: "t") == 64)
        #expect(ErrorReport.report(KFCError.failed("y", "z"), program: "t") == 1)
    }
}
