import Foundation
import KFCCore
import Stores

/// The subcommands that list, move, copy and replicate stored versions.
let storeCommands: [Subcommand] = [
    listCommand, showCommand, promoteCommand, rollbackCommand, cloneCommand, sendCommand,
    receiveCommand, pushCommand, removeCommand, gcCommand,
]

/// The `--store` line shared by the usage texts of the store commands.
let storeOptionUsage = """
      --store SPEC   the store: dir:PATH, zfs:POOL/DATASET[,PROPERTY=VALUE…] or btrfs:PATH
                     (default: $KFC_STORE, the store line of /etc/kfc/kfc.conf, or
                     dir:/var/lib/kfc)
    """

/// JSON with sorted keys and unescaped slashes, the form of every `--json` output.
func jsonText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Parses `NAME@VERSION`, rejecting a bare `NAME`.
func versionReference(_ text: String, command: String) throws -> (String, String) {
    let reference = try VersionReference(parsing: text)
    guard let version = reference.selector else {
        throw KFCError.usage("\(command): expected NAME@VERSION, not '\(text)'")
    }
    return (reference.name, version)
}
