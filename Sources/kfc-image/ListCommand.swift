import Foundation
import KFCCore
import Stores

/// The output of `list --json`.
struct StoreListing: Encodable {
    var versions: [VersionManifest]
    var channels: [ChannelRecord]
    var clones: [CloneRecord]
}

/// `kfc-image list`: the versions of every image or of one, with the channels naming them.
let listCommand = Subcommand(
    "list", summary: "list stored versions and the channels pointing at them",
    usage: """
        Usage: kfc-image list [NAME] [--json] [--store SPEC]

        Prints one line per version, oldest first: NAME@VERSION, build date, image size,
        the last verification result and the channels pointing at it. With --json, prints
        the manifests, channel records and clone records as one JSON object.

        Options:
          --json         print JSON
        \(storeOptionUsage)
        """,
    run: { arguments, logger in
        let json = arguments.flag("--json")
        let spec = try arguments.option("--store")
        let name = arguments.optionalPositional()
        try arguments.finish()

        let store = try StoreSpec.open(spec, logger: logger)
        let versions = try store.versions(name: name)
        let channels = try store.channels(name: name)
        if json {
            let listing = StoreListing(
                versions: versions, channels: channels, clones: try store.clones(name: name))
            StandardOutput.line(try jsonText(listing))
            return 0
        }
        for manifest in versions {
            let names = channels.filter {
                $0.name == manifest.name && $0.version == manifest.version
            }.map(\.channel)
            let verified = manifest.verified.map { $0.passed ? "verified" : "failed" }
                ?? "unverified"
            let size = ByteSize.format(manifest.image.bytes)
            let tail = names.isEmpty ? "" : "  [\(names.joined(separator: ", "))]"
            StandardOutput.line("\(manifest.reference)  \(manifest.created)  \(size)  "
                + verified + tail)
        }
        return 0
    })
