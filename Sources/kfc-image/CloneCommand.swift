import Foundation
import KFCCore
import Stores

/// `kfc-image clone`: a writable copy of a version for one microVM.
let cloneCommand = Subcommand(
    "clone", summary: "make a writable copy of a version for one microVM",
    usage: """
        Usage: kfc-image clone NAME[@VERSION|@CHANNEL] DEST [--store SPEC]

        DEST is an absolute path that must not exist (for ZFS it may be an empty folder).
        Directory stores copy with reflinks where the filesystem can, ZFS stores make a
        clone dataset mounted at DEST, btrfs stores a writable snapshot. Prints DEST.

        Options:
        \(storeOptionUsage)
        """,
    run: { arguments, logger in
        let spec = try arguments.option("--store")
        let reference = try VersionReference(parsing: try arguments.positional("NAME"))
        let destination = try arguments.positional("DEST")
        try arguments.finish()

        let store = try StoreSpec.open(spec, logger: logger)
        let record = try store.clone(reference, to: destination)
        StandardOutput.line(record.path)
        return 0
    })
