import Foundation
import KFCCore
import Stores

#if canImport(Glibc)
    import Glibc
#endif

/// `kfc-image send`: writes a replication stream of a version to stdout.
let sendCommand = Subcommand(
    "send", summary: "write a version as a stream to stdout (incremental with --from)",
    usage: """
        Usage: kfc-image send NAME@VERSION [--from OLDER] [--store SPEC] > STREAM

        The stream carries the manifest, the payload length and its sha256, so that
        'kfc-image receive' rejects a cut or altered stream. ZFS stores send a zfs send
        stream, btrfs stores a btrfs send stream and directory stores a tar archive.

        Options:
          --from OLDER   send only the changes since the version OLDER (or NAME@OLDER),
                         which the receiving store must have
        \(storeOptionUsage)
        """,
    run: { arguments, logger in
        var base = try arguments.option("--from")
        let spec = try arguments.option("--store")
        let (name, version) = try versionReference(
            try arguments.positional("NAME@VERSION"), command: arguments.command)
        // --from takes OLDER or NAME@OLDER; the name must be the sent version's.
        if let given = base, given.contains("@") {
            let older = try VersionReference(parsing: given)
            guard older.name == name, let selector = older.selector else {
                throw KFCError.usage("--from \(given): expected a version of \(name)")
            }
            base = selector
        }
        try arguments.finish()
        guard isatty(STDOUT_FILENO) == 0 else {
            throw KFCError.usage("\(arguments.command): stdout is a terminal; redirect it")
        }

        let store = try StoreSpec.open(spec, logger: logger)
        try store.send(name: name, version: version, base: base, to: .standardOutput)
        return 0
    })
