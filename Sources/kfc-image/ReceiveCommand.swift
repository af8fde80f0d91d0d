import Foundation
import KFCCore
import Stores

#if canImport(Glibc)
    import Glibc
#endif

/// `kfc-image receive`: publishes the version a stream on stdin carries.
let receiveCommand = Subcommand(
    "receive", summary: "publish the version carried by a stream on stdin",
    usage: """
        Usage: kfc-image receive [--store SPEC] < STREAM

        Publishes nothing when the stream is cut, altered, or its image does not match its
        manifest. Prints NAME@VERSION.

        Options:
        \(storeOptionUsage)
        """,
    run: { arguments, logger in
        let spec = try arguments.option("--store")
        try arguments.finish()
        guard isatty(STDIN_FILENO) == 0 else {
            throw KFCError.usage("\(arguments.command): stdin is a terminal; redirect a stream")
        }

        let store = try StoreSpec.open(spec, logger: logger)
        let manifest = try store.receive(from: .standardInput)
        StandardOutput.line(manifest.reference)
        return 0
    })
