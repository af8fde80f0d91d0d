import Foundation
import KFCCore

/// Opens the store a command names: `--store SPEC`, else `KFC_STORE`, else the `store = SPEC`
/// line of `/etc/kfc/kfc.conf`, else `dir:/var/lib/kfc`.
///
/// Forms: `dir:PATH`, `zfs:POOL/DATASET[,PROPERTY=VALUE…]` and `btrfs:PATH`. The ZFS
/// properties (such as `compression=lz4,recordsize=128K`) are set on datasets the store
/// creates.
public enum StoreSpec {
    /// The spec used when nothing names one.
    public static let defaultSpec = "dir:/var/lib/kfc"
    /// The configuration file read when neither the argument nor `KFC_STORE` is set.
    public static let configurationFile = "/etc/kfc/kfc.conf"

    /// Opens the store named by `spec`, or by the environment or configuration file when nil.
    public static func open(_ spec: String?, logger: Logger) throws -> any Store {
        let chosen = try resolve(spec)
        let (kind, rest) = try split(chosen)
        switch kind {
        case "dir":
            return try DirectoryStore(root: rest, logger: logger)
        case "btrfs":
            try FileSystem.createDirectory(rest)
            try BtrfsVolumes.checkFilesystem(rest)
            return try DirectoryStore(root: rest, volumes: BtrfsVolumes(logger: logger),
                logger: logger)
        default:
            let parts = rest.split(separator: ",").map(String.init)
            let properties = try parts.dropFirst().map { try property($0, spec: chosen) }
            return try ZFSStore(
                parent: parts.first ?? "", properties: properties, logger: logger)
        }
    }

    /// The spec that applies: `spec`, `KFC_STORE`, the configuration file or the default.
    public static func resolve(_ spec: String?, environment: [String: String] =
        ProcessInfo.processInfo.environment, configuration: String = configurationFile)
        throws -> String
    {
        if let spec { return spec }
        if let value = environment["KFC_STORE"], !value.isEmpty { return value }
        if FileSystem.exists(configuration), let value = try configured(configuration) {
            return value
        }
        return defaultSpec
    }

    /// The value of the `store = SPEC` line of the configuration file at `path`, if any.
    static func configured(_ path: String) throws -> String? {
        let text = String(decoding: try FileSystem.read(path), as: UTF8.self)
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let content = line.split(separator: "#", maxSplits: 1,
                omittingEmptySubsequences: false)[0]
            let pair = content.split(separator: "=", maxSplits: 1,
                omittingEmptySubsequences: false)
            guard pair.count == 2,
                pair[0].trimmingCharacters(in: .whitespaces) == "store"
            else { continue }
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else {
                throw KFCError.invalid("\(path):\(index + 1)", "'store =' needs a store spec")
            }
            return value
        }
        return nil
    }

    /// Splits `dir:/x` into its kind and the rest, rejecting unknown kinds and empty parts.
    static func split(_ spec: String) throws -> (String, String) {
        let usage = "expected dir:PATH, zfs:POOL/DATASET or btrfs:PATH"
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, ["dir", "zfs", "btrfs"].contains(parts[0]) else {
            throw KFCError.usage("invalid store spec '\(spec)': \(usage)")
        }
        let rest = parts[1]
        if parts[0] == "zfs" {
            let dataset = rest.split(separator: ",").first.map(String.init) ?? ""
            guard !dataset.isEmpty, !dataset.hasPrefix("/"), !dataset.hasSuffix("/") else {
                throw KFCError.usage("invalid store spec '\(spec)': \(usage)")
            }
        } else if !rest.hasPrefix("/") {
            throw KFCError.usage("invalid store spec '\(spec)': the path must be absolute")
        }
        return (parts[0], rest)
    }

    private static func property(_ text: String, spec: String) throws -> (String, String) {
        let pair = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else {
            throw KFCError.usage(
                "invalid store spec '\(spec)': '\(text)' is not PROPERTY=VALUE")
        }
        return (pair[0], pair[1])
    }
}
