import Foundation
import KFCCore

/// A store in ZFS datasets (`zfs:POOL/DATASET`), driven through the `zfs` command.
///
/// Layout under the parent dataset:
///
///     golden/NAME            the tree, image, kernel and manifest of the newest build;
///                            read-only except while a build writes into it
///     golden/NAME@VERSION    a version: a snapshot with the manifest in `kfc:manifest.*`
///     clones/NAME-…          writable clones made for microVMs (never `zfs promote`d)
///     tmp/…                  read-only clones for reading old snapshots, removed after use
///
/// Channels are user properties `kfc:channel.CHANNEL` of `golden/NAME`. Lock files and
/// stream spools live in a local scratch folder, because flock(2) on a FUSE mount is not
/// reliable across processes.
public final class ZFSStore: Store {
    /// The dataset everything lives under.
    public let parent: String
    public let spec: String
    /// Properties set on every image dataset the store creates, such as `compression=lz4`.
    public let properties: [(String, String)]
    /// The local folder of lock files and stream spools.
    public let scratch: String
    let zfs: ZFS
    let logger: Logger
    let held = HeldLocks()

    /// Opens the store under `parent`, creating its datasets when missing.
    ///
    /// `scratch` defaults to a folder under `/var/tmp/kfc` named after `parent`.
    public init(parent: String, properties: [(String, String)] = [], scratch: String? = nil,
        logger: Logger) throws
    {
        self.parent = parent
        self.properties = properties
        self.logger = logger
        self.zfs = ZFS(logger: logger)
        let suffix = properties.map { ",\($0.0)=\($0.1)" }.joined()
        self.spec = "zfs:\(parent)\(suffix)"
        self.scratch = scratch ?? "/var/tmp/kfc/zfs-"
            + parent.replacingOccurrences(of: "/", with: "%")
        try withContext("open \(spec)") {
            // One listing checks the parent and its children: every zfs command costs a
            // process start.
            guard let existing = try zfs.names(parent, depth: 1) else {
                throw KFCError.notFound(parent, "no such dataset; create it with zfs create")
            }
            try FileSystem.createDirectory(self.scratch)
            for child in ["golden", "clones", "tmp"]
            where !existing.contains("\(parent)/\(child)") {
                do {
                    try zfs.create("\(parent)/\(child)", options: ["-p"])
                } catch where zfs.exists("\(parent)/\(child)") {
                    // Another process opening the store created it first.
                }
            }
        }
    }

    func dataset(_ name: String) -> String { "\(parent)/golden/\(name)" }
    func snapshot(_ name: String, _ version: String) -> String { "\(dataset(name))@\(version)" }
    func lockPath(_ name: String) -> String { "\(scratch)/\(name).lock" }
    func buildLockPath(_ name: String) -> String { "\(scratch)/\(name).build.lock" }

    public func beginVersion(name: String, prefix: String) throws -> PendingVersion {
        try Names.validate(name, as: "image name")
        try Names.validate(prefix, as: "version prefix")
        // One build per image at a time: the build writes into the image's dataset.
        let build = try FileLock.acquire(buildLockPath(name))
        return try withContext("begin a version of \(name) in \(spec)") {
            try FileLock.withLock(lockPath(name)) {
                let target = dataset(name)
                try ensureDataset(target)
                let version = Names.nextVersion(prefix: prefix, taken: try snapshotNames(name))
                try zfs.run(["set", "readonly=off", target])
                try zfs.run(["set", "kfc:pending=\(version)", target])
                let mount = try mountpoint(target)
                for entry in try topLevelFiles(mount) { try FileSystem.remove(entry) }
                held.hold(build, for: name)
                logger.info("version started", [("name", name), ("version", version)])
                return PendingVersion(name: name, version: version, path: mount, token: name)
            }
        }
    }

    private func ensureDataset(_ target: String) throws {
        guard !zfs.exists(target) else { return }
        let options = properties.flatMap { ["-o", "\($0.0)=\($0.1)"] }
        do {
            try zfs.create(target, options: options)
        } catch {
            throw ZFS.explain(error, properties: properties, dataset: target)
        }
    }

    public func publish(_ pending: PendingVersion, manifest: VersionManifest) throws
        -> VersionManifest
    {
        defer { held.release(pending.token) }
        let context = "publish \(pending.name)@\(pending.version)"
        guard manifest.name == pending.name, manifest.version == pending.version else {
            discardContents(pending.name)
            throw KFCError.invalid(
                "manifest \(manifest.reference)", "does not belong to the pending version")
        }
        let stored = manifest.relative(to: pending.path)
        let target = snapshot(pending.name, pending.version)
        do {
            try FileSystem.writeAtomically(
                try stored.json(), to: "\(pending.path)/\(VersionLayout.manifest)", mode: 0o444)
            try setTopLevelWritable(pending.path, false)
            try syncTree(pending.path)
            try zfs.run(["snapshot", target])
            try zfs.setChunked("kfc:manifest", try stored.json(), on: target)
            try zfs.run(["set", "readonly=on", dataset(pending.name)])
            try zfs.run(["inherit", "kfc:pending", dataset(pending.name)])
        } catch {
            if zfs.exists(target) { try? zfs.destroy(target) }
            discardContents(pending.name)
            throw error.asKFCError().within(context)
        }
        logger.info("version published", [("name", pending.name), ("version", pending.version)])
        return try readManifest(pending.name, pending.version)
    }

    public func discard(_ pending: PendingVersion) {
        defer { held.release(pending.token) }
        discardContents(pending.name)
    }

    /// Puts the image dataset back to its newest version, or destroys it when it has none.
    func discardContents(_ name: String) {
        let target = dataset(name)
        do {
            if let newest = try snapshotNames(name).last {
                try zfs.run(["rollback", "\(target)@\(newest)"])
                try zfs.run(["set", "readonly=on", target])
                try zfs.run(["inherit", "kfc:pending", target])
            } else if zfs.exists(target) {
                try zfs.destroy(target)
            }
            logger.info("pending version discarded", [("dataset", target)])
        } catch {
            logger.warning(
                "could not reset a pending version; gc resets it",
                [("dataset", target), ("error", "\(error)")])
        }
    }

    /// The mountpoint of a mounted dataset.
    func mountpoint(_ target: String) throws -> String {
        let rows = try zfs.rows(["get", "-H", "-p", "-o", "value", "mountpoint,mounted", target])
        let values = rows.compactMap(\.first)
        guard values.count == 2, values[0].hasPrefix("/"), values[1] == "yes" else {
            throw KFCError.failed(target, "the dataset is not mounted at a path")
        }
        return values[0]
    }

    /// The snapshot names of an image's dataset, oldest first, published or not.
    func snapshotNames(_ name: String) throws -> [String] {
        let target = dataset(name)
        guard zfs.exists(target) else { return [] }
        return try zfs.rows(["list", "-H", "-t", "snapshot", "-o", "name", "-s", "creation",
            "-r", target]).compactMap { row in
            let parts = row[0].split(separator: "@", maxSplits: 1).map(String.init)
            return parts.count == 2 && parts[0] == target ? parts[1] : nil
        }
    }
}
