import Builder
import Fetching
import Foundation
import KFCCore
import Stores

/// `kfc-image rebuild NAME@VERSION`: checks that a version rebuilds to the same bytes.
enum RebuildCommand {
    static let usage = """
        Usage: kfc-image rebuild NAME[@VERSION|@CHANNEL] [OPTIONS]

        Builds the version again from its recorded recipe, sources, kernel and epoch in a
        throwaway store and compares the image digests. Exits 0 when they match and 1 when
        they differ; the version itself is not touched.

        Options:
          --store SPEC     the store holding the version
          --darksite DIR   look up inputs in DIR by file name first (default: KFC_DARKSITE)
          --cache DIR      cache of verified inputs (default: KFC_CACHE, then /var/cache/kfc)
          --json           print the result as JSON
        """

    /// The `--json` output.
    struct Report: Codable {
        var reference: String
        var expected: String
        var actual: String
        var matches: Bool
    }

    static let subcommand = Subcommand(
        "rebuild", summary: "check that a version rebuilds to the same bytes", usage: usage,
        run: run)

    static func run(_ arguments: inout Arguments, _ logger: Logger) throws -> Int32 {
        let storeSpec = try arguments.option("--store")
        let darksite = try arguments.option("--darksite") ?? Fetcher.environmentDarksite
        let cache = try arguments.option("--cache") ?? Fetcher.defaultCacheDirectory
        let json = arguments.flag("--json")
        let reference = try VersionReference(parsing: try arguments.positional("NAME@VERSION"))
        try arguments.finish()

        let store = try StoreSpec.open(storeSpec, logger: logger)
        let manifest = try store.manifest(reference)
        let result = try ImageBuilder.rebuild(
            manifest, darksite: darksite, cacheDirectory: cache, logger: logger)
        if json {
            let report = Report(
                reference: result.reference, expected: result.expected, actual: result.actual,
                matches: result.matches)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            StandardOutput.line(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else if result.matches {
            StandardOutput.line("\(result.reference): rebuilt to the same image (sha256 \(result.actual))")
        } else {
            StandardOutput.line(
                "\(result.reference): rebuilt image differs: recorded sha256 \(result.expected), "
                    + "rebuilt \(result.actual)")
        }
        return result.matches ? 0 : 1
    }
}
