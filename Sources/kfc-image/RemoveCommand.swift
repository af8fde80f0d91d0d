import Foundation
import KFCCore
import Stores

/// `kfc-image rm`: removes a version.
let removeCommand = Subcommand(
    "rm", summary: "remove a version no channel or clone depends on",
    usage: """
        Usage: kfc-image rm NAME@VERSION [--store SPEC]

        Rejects a version that a channel points at, or (ZFS) that clones depend on, and
        names them.

        Options:
        \(storeOptionUsage)
        """,
    run: { arguments, logger in
        let spec = try arguments.option("--store")
        let (name, version) = try versionReference(
            try arguments.positional("NAME@VERSION"), command: arguments.command)
        try arguments.finish()

        let store = try StoreSpec.open(spec, logger: logger)
        try store.remove(name: name, version: version)
        StandardOutput.line("removed \(name)@\(version)")
        return 0
    })
