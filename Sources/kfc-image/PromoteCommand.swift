import Foundation
import KFCCore
import Stores

/// `kfc-image promote`: points a channel at a version.
let promoteCommand = Subcommand(
    "promote", summary: "point a channel at a version, keeping its history for rollback",
    usage: """
        Usage: kfc-image promote NAME@VERSION CHANNEL [--require-verified] [--store SPEC]

        Moves CHANNEL (any name of lowercase letters, digits, '.', '_' and '-') to VERSION
        atomically. Rejects a version whose image no longer has its manifest's digest.

        Options:
          --require-verified  reject a version without a passing boot test
        \(storeOptionUsage)
        """,
    run: { arguments, logger in
        let requireVerified = arguments.flag("--require-verified")
        let spec = try arguments.option("--store")
        let (name, version) = try versionReference(
            try arguments.positional("NAME@VERSION"), command: arguments.command)
        let channel = try arguments.positional("CHANNEL")
        try arguments.finish()

        let store = try StoreSpec.open(spec, logger: logger)
        let record = try store.promote(
            name: name, version: version, channel: channel, requireVerified: requireVerified)
        let previous = record.history.last.map { " (was \($0))" } ?? ""
        StandardOutput.line("\(name)@\(channel) -> \(record.version)\(previous)")
        return 0
    })
