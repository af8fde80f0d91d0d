import Foundation
import KFCCore
import Stores

/// `kfc-image show`: one version's manifest.
let showCommand = Subcommand(
    "show", summary: "print the manifest of a version (the newest by default)",
    usage: """
        Usage: kfc-image show NAME[@VERSION|@CHANNEL] [--json] [--store SPEC]

        Prints the version's image, kernel, tree, digests, sources and last verification.
        With --json, prints the manifest as JSON with absolute paths.

        Options:
          --json         print JSON
        \(storeOptionUsage)
        """,
    run: { arguments, logger in
        let json = arguments.flag("--json")
        let spec = try arguments.option("--store")
        let reference = try VersionReference(parsing: try arguments.positional("NAME"))
        try arguments.finish()

        let store = try StoreSpec.open(spec, logger: logger)
        let manifest = try store.manifest(reference)
        if json {
            StandardOutput.line(String(decoding: try manifest.json(), as: UTF8.self))
            return 0
        }
        var lines = [
            "version:  \(manifest.reference)",
            "created:  \(manifest.created)",
            "image:    \(manifest.image.path) (\(ByteSize.format(manifest.image.bytes)), "
                + "sha256 \(manifest.image.sha256))",
            "tree:     \(manifest.tree)",
            "recipe:   \(manifest.recipe.path) (sha256 \(manifest.recipe.sha256))",
            "builder:  \(manifest.builder), epoch \(manifest.epoch)",
        ]
        if let kernel = manifest.kernel {
            lines.append("kernel:   \(kernel.path) (\(kernel.version ?? "version unknown"))")
        }
        lines += manifest.sources.map { "source:   \($0.url) (sha256 \($0.sha256))" }
        let verified = manifest.verified.map {
            "\($0.passed ? "passed" : "failed") with \($0.vmm) on \($0.date)"
                + ($0.reason.map { ": \($0)" } ?? "")
        }
        lines.append("verified: \(verified ?? "never")")
        StandardOutput.line(lines.joined(separator: "\n"))
        return 0
    })
