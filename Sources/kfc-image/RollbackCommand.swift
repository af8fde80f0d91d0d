import Foundation
import KFCCore
import Stores

/// `kfc-image rollback`: points a channel back at its previous version.
let rollbackCommand = Subcommand(
    "rollback", summary: "point a channel back at the version it had before",
    usage: """
        Usage: kfc-image rollback NAME CHANNEL [--store SPEC]

        Options:
        \(storeOptionUsage)
        """,
    run: { arguments, logger in
        let spec = try arguments.option("--store")
        let name = try arguments.positional("NAME")
        let channel = try arguments.positional("CHANNEL")
        try arguments.finish()

        let store = try StoreSpec.open(spec, logger: logger)
        let record = try store.rollback(name: name, channel: channel)
        StandardOutput.line("\(name)@\(channel) -> \(record.version)")
        return 0
    })
