import Foundation
import KFCCore
import Stores

/// `kfc-image gc`: removes leftovers of failed or killed operations.
let gcCommand = Subcommand(
    "gc", summary: "remove leftovers of failed builds, receives and removed clones",
    usage: """
        Usage: kfc-image gc [--store SPEC]

        Removes pending folders and datasets no live process holds, snapshots without a
        manifest, temporary datasets, stream spools, and clones or clone records whose
        folder is gone. Prints one line per item removed.

        Options:
        \(storeOptionUsage)
        """,
    run: { arguments, logger in
        let spec = try arguments.option("--store")
        try arguments.finish()

        let store = try StoreSpec.open(spec, logger: logger)
        let removed = try store.collectGarbage()
        for line in removed { StandardOutput.line("removed \(line)") }
        if removed.isEmpty { logger.info("nothing to remove") }
        return 0
    })
