import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// A store in a folder (`dir:PATH`), or on a btrfs filesystem (`btrfs:PATH`).
///
/// Layout under the root:
///
///     images/NAME/VERSION/      a read-only version folder (rootfs/, rootfs.ext4, …)
///     tmp/NAME@VERSION/         a pending version, locked by its build with flock(2)
///     verified/NAME/VERSION.json  the last verification record of a version
///     channels/NAME/CHANNEL.json  where a channel points and its history
///     clones/NAME/ID.json       a clone made for a microVM
///     locks/NAME.lock           held while version numbers or channels of NAME change
public final class DirectoryStore: Store {
    /// The folder everything lives in.
    public let root: String
    public let spec: String
    let volumes: any FolderVolumes
    let logger: Logger
    let held = HeldLocks()

    /// Opens (creating its folders when missing) a plain folder store at `root`.
    public convenience init(root: String, logger: Logger) throws {
        try self.init(root: root, volumes: PlainVolumes(logger: logger), logger: logger)
    }

    init(root: String, volumes: any FolderVolumes, logger: Logger) throws {
        var clean = root
        while clean.count > 1, clean.hasSuffix("/") { clean.removeLast() }
        self.root = clean
        self.volumes = volumes
        self.logger = logger
        self.spec = (volumes is PlainVolumes ? "dir:" : "btrfs:") + clean
        for folder in ["images", "tmp", "verified", "channels", "clones", "locks"] {
            try FileSystem.createDirectory("\(clean)/\(folder)")
        }
    }

    func versionFolder(_ name: String, _ version: String) -> String {
        "\(root)/images/\(name)/\(version)"
    }

    func lockPath(_ name: String) -> String { "\(root)/locks/\(name).lock" }

    public func beginVersion(name: String, prefix: String) throws -> PendingVersion {
        try Names.validate(name, as: "image name")
        try Names.validate(prefix, as: "version prefix")
        return try FileLock.withLock(lockPath(name)) {
            // Leftovers count as taken too, so a new version never meets one in images/.
            var taken = try entries("\(root)/images/\(name)") + pendingVersions(name)
            // Another process may take a number between the listing and the mkdir, so a
            // taken folder only moves on to the next number.
            while true {
                let version = Names.nextVersion(prefix: prefix, taken: taken)
                let path = "\(root)/tmp/\(name)@\(version)"
                do {
                    try volumes.createPending(path)
                } catch let error as KFCError where FileSystem.exists(path) {
                    logger.debug("pending folder taken", [("path", path), ("error", "\(error)")])
                    taken.append(version)
                    continue
                }
                let lock = try FileLock.acquire(path)
                held.hold(lock, for: path)
                logger.info("version started", [("name", name), ("version", version)])
                return PendingVersion(name: name, version: version, path: path, token: path)
            }
        }
    }

    public func publish(_ pending: PendingVersion, manifest: VersionManifest) throws
        -> VersionManifest
    {
        defer { held.release(pending.token) }
        do {
            return try withContext("publish \(pending.name)@\(pending.version)") {
                try seal(pending, manifest: manifest)
            }
        } catch {
            try? volumes.removeFolder(pending.path)
            throw error
        }
    }

    private func seal(_ pending: PendingVersion, manifest: VersionManifest) throws
        -> VersionManifest
    {
        guard manifest.name == pending.name, manifest.version == pending.version else {
            throw KFCError.invalid(
                "manifest \(manifest.reference)", "does not belong to the pending version")
        }
        let stored = manifest.relative(to: pending.path)
        try FileSystem.writeAtomically(
            try stored.json(), to: "\(pending.path)/\(VersionLayout.manifest)", mode: 0o444)
        let final = versionFolder(pending.name, pending.version)
        try FileSystem.createDirectory("\(root)/images/\(pending.name)")
        // Under the name lock no receive can take `final` between the check and the rename.
        try withNameLock(pending.name) {
            guard !FileSystem.exists(final) else {
                throw KFCError.failed(final, "a version with this name exists already")
            }
            try volumes.seal(pending: pending.path, final: final)
        }
        logger.info("version published", [("name", pending.name), ("version", pending.version)])
        return stored.absolute(in: final)
    }

    public func discard(_ pending: PendingVersion) {
        defer { held.release(pending.token) }
        do {
            try volumes.removeFolder(pending.path)
            logger.info("pending version discarded", [("path", pending.path)])
        } catch {
            logger.warning(
                "could not remove a pending version; gc removes it",
                [("path", pending.path), ("error", "\(error)")])
        }
    }

    public func versions(name: String?) throws -> [VersionManifest] {
        let names = try name.map { [$0] } ?? imageNames()
        var result: [VersionManifest] = []
        for image in names {
            for version in try publishedVersions(image) {
                result.append(try readManifest(image, version))
            }
        }
        return result.sorted { $0.name != $1.name ? $0.name < $1.name : Names.isOlder($0, $1) }
    }

    public func manifest(_ reference: VersionReference) throws -> VersionManifest {
        try resolveReference(reference, in: self)
    }

    public func recordVerification(
        _ record: VersionManifest.VerificationRecord, name: String, version: String
    ) throws {
        _ = try readManifest(name, version)
        try FileSystem.createDirectory("\(root)/verified/\(name)")
        try FileSystem.writeAtomically(
            try encodeRecord(record), to: "\(root)/verified/\(name)/\(version).json")
    }

    /// The manifest of a published version, with its verification record and absolute paths.
    func readManifest(_ name: String, _ version: String) throws -> VersionManifest {
        let folder = versionFolder(name, version)
        let path = "\(folder)/\(VersionLayout.manifest)"
        guard FileSystem.isDirectory(folder), try volumes.isComplete(folder) else {
            throw KFCError.notFound("\(name)@\(version)", "no such version in \(spec)")
        }
        var manifest = try withContext("read \(path)") {
            try VersionManifest.decode(try FileSystem.read(path))
        }
        let verified = "\(root)/verified/\(name)/\(version).json"
        if FileSystem.exists(verified) {
            manifest.verified = try withContext("read \(verified)") {
                try JSONDecoder().decode(
                    VersionManifest.VerificationRecord.self, from: try FileSystem.read(verified))
            }
        }
        return manifest.absolute(in: folder)
    }

    /// The image names that have a folder under `images/`.
    func imageNames() throws -> [String] {
        try entries("\(root)/images").filter { FileSystem.isDirectory("\(root)/images/\($0)") }
    }

    /// The published versions of `name`: complete version folders under `images/NAME/`.
    func publishedVersions(_ name: String) throws -> [String] {
        let folder = "\(root)/images/\(name)"
        return try entries(folder).filter { try volumes.isComplete("\(folder)/\($0)") }
    }

    /// The versions of `name` that pending builds or receives have taken.
    func pendingVersions(_ name: String) throws -> [String] {
        try entries("\(root)/tmp").compactMap { entry in
            guard entry.hasPrefix(name + "@") else { return nil }
            return String(entry.dropFirst(name.count + 1))
        }
    }

    func entries(_ folder: String) throws -> [String] {
        guard FileSystem.isDirectory(folder) else { return [] }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        } catch {
            throw KFCError.failed("list \(folder)", FileSystem.describe(error))
        }
    }
}
