import Builder
import Fetching
import Foundation
import KFCCore
import Recipes
import Stores

/// `kfc-image build RECIPE`: builds a recipe into a new version and prints it.
enum BuildCommand {
    static let usage = """
        Usage: kfc-image build RECIPE [OPTIONS]

        Builds RECIPE (a name looked up in ./recipes, /etc/kfc/recipes and KFC_RECIPES, or a
        path to a YAML file) into a new immutable version and prints NAME@VERSION.

        Options:
          --store SPEC       where the version goes: dir:PATH, zfs:POOL/DATASET or btrfs:PATH
                             (default: KFC_STORE, then /etc/kfc/kfc.conf, then dir:/var/lib/kfc)
          --darksite DIR     look up inputs in DIR by file name before downloading
                             (default: KFC_DARKSITE)
          --kernel FILE      use FILE as the guest kernel instead of the recipe's
          --cache DIR        cache of verified inputs (default: KFC_CACHE, then /var/cache/kfc)
          --epoch SECONDS    time every image timestamp is set from (default: the recipe's
                             epoch, then SOURCE_DATE_EPOCH, then the newest time in the source)
          --step-timeout S   longest a setup step may run, in seconds (default: no limit)
          --json             print the new version's manifest instead of NAME@VERSION
        """

    static let subcommand = Subcommand(
        "build", summary: "build a recipe into a new golden image version", usage: usage, run: run)

    static func run(_ arguments: inout Arguments, _ logger: Logger) throws -> Int32 {
        let storeSpec = try arguments.option("--store")
        let darksite = try arguments.option("--darksite") ?? Fetcher.environmentDarksite
        let kernel = try arguments.option("--kernel")
        let cache = try arguments.option("--cache") ?? Fetcher.defaultCacheDirectory
        let epoch = try arguments.option("--epoch").map { text in
            guard let value = Int64(text), (1...Recipe.maximumEpoch).contains(value) else {
                throw KFCError.usage(
                    "--epoch expects seconds since 1970, from 1 to \(Recipe.maximumEpoch), got '\(text)'")
            }
            return value
        }
        let timeout = try arguments.option("--step-timeout").map { text in
            guard let value = Double(text), value > 0 else {
                throw KFCError.usage("--step-timeout expects seconds, got '\(text)'")
            }
            return value
        }
        let json = arguments.flag("--json")
        let recipe = try arguments.positional("RECIPE")
        try arguments.finish()

        guard geteuid() == 0 else {
            throw KFCError.failed(
                "build \(recipe)", "must run as root, because it unpacks with file ownership "
                    + "and runs the setup in a chroot; run it with sudo")
        }
        if let darksite, !FileSystem.isDirectory(darksite) {
            throw KFCError.notFound("darksite \(darksite)", "no such folder")
        }
        if let kernel, !FileSystem.exists(kernel) {
            throw KFCError.notFound("kernel \(kernel)", "no such file")
        }
        let path = try RecipeLocator.locate(recipe)
        let store = try StoreSpec.open(storeSpec, logger: logger)
        let request = BuildRequest(
            recipePath: path, darksite: darksite, kernelOverride: kernel, cacheDirectory: cache,
            epoch: epoch, stepTimeout: timeout)
        let manifest = try ImageBuilder(store: store, logger: logger).build(request)
        if json {
            StandardOutput.line(String(decoding: try manifest.json(), as: UTF8.self))
        } else {
            StandardOutput.line(manifest.reference)
        }
        return 0
    }
}
