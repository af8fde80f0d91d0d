import Foundation
import KFCCore

extension ZFSStore: StoreBackend {
    public func channels(name: String?) throws -> [ChannelRecord] {
        try readChannels(name: name)
    }

    public func promote(name: String, version: String, channel: String, requireVerified: Bool)
        throws -> ChannelRecord
    {
        let record = try promoteChannel(
            name: name, version: version, channel: channel, requireVerified: requireVerified)
        logger.info("channel moved", [("channel", "\(name)@\(channel)"), ("version", version)])
        return record
    }

    public func rollback(name: String, channel: String) throws -> ChannelRecord {
        let record = try rollbackChannel(name: name, channel: channel)
        logger.info(
            "channel rolled back", [("channel", "\(name)@\(channel)"), ("version", record.version)])
        return record
    }

    func readChannels(name: String?) throws -> [ChannelRecord] {
        let scope = name.map(dataset) ?? "\(parent)/golden"
        var records: [ChannelRecord] = []
        for (target, properties) in try zfs.localProperties(scope) where !target.contains("@") {
            for (key, value) in properties where key.hasPrefix("kfc:channel.") {
                records.append(try withContext("read \(key) of \(target)") {
                    try JSONDecoder().decode(ChannelRecord.self, from: Data(value.utf8))
                })
            }
        }
        return records.sorted { ($0.name, $0.channel) < ($1.name, $1.channel) }
    }

    func writeChannel(_ record: ChannelRecord) throws {
        // One `zfs set` replaces the whole record, so readers see the old or the new one.
        let json = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        try zfs.run(["set", "kfc:channel.\(record.channel)=\(json)", dataset(record.name)])
    }

    func deleteChannel(name: String, channel: String) throws {
        try zfs.run(["inherit", "kfc:channel.\(channel)", dataset(name)])
    }

    func withNameLock<T>(_ name: String, _ body: () throws -> T) throws -> T {
        try Names.validate(name, as: "image name")
        return try FileLock.withLock(lockPath(name), body)
    }

    public func clone(_ reference: VersionReference, to destination: String) throws
        -> CloneRecord
    {
        let manifest = try manifest(reference)
        let context = "clone \(manifest.reference) to \(destination)"
        guard destination.hasPrefix("/") else {
            throw KFCError.usage("\(context): the destination must be an absolute path")
        }
        let occupied = try FileSystem.exists(destination) && !topLevelFiles(destination).isEmpty
        guard !occupied else {
            throw KFCError.failed(context, "the destination exists and is not empty")
        }
        let base = (destination as NSString).lastPathComponent.filter {
            $0.isLetter || $0.isNumber || "-_.".contains($0)
        }
        let suffix = Digest.of(Data(destination.utf8)).hex.prefix(8)
        let target = "\(parent)/clones/\(manifest.name)-\(base)-\(suffix)"
        let created = timestampNow()
        // A clone stays a dependent of its snapshot: `zfs promote` would move the golden
        // history into the microVM's dataset, so it is never used here.
        try withContext(context) {
            try zfs.run(["clone", "-o", "mountpoint=\(destination)", "-o", "readonly=off",
                "-o", "kfc:clone-of=\(manifest.reference)", "-o", "kfc:clone-path=\(destination)",
                "-o", "kfc:clone-created=\(created)",
                snapshot(manifest.name, manifest.version), target])
            do {
                try setTopLevelWritable(destination, true)
            } catch {
                try? zfs.destroy(target)
                throw error
            }
        }
        logger.info("clone made", [("version", manifest.reference), ("dataset", target)])
        return CloneRecord(
            name: manifest.name, version: manifest.version, path: destination,
            method: "zfs-clone", dataset: target, created: created)
    }

    public func clones(name: String?) throws -> [CloneRecord] {
        var records: [CloneRecord] = []
        for (target, properties) in try zfs.localProperties("\(parent)/clones") {
            guard let origin = properties["kfc:clone-of"],
                let reference = try? VersionReference(parsing: origin),
                let version = reference.selector, name == nil || reference.name == name
            else { continue }
            records.append(CloneRecord(
                name: reference.name, version: version,
                path: properties["kfc:clone-path"] ?? "", method: "zfs-clone", dataset: target,
                created: properties["kfc:clone-created"] ?? ""))
        }
        return records.sorted { ($0.name, $0.path) < ($1.name, $1.path) }
    }

    /// Destroys a version's snapshot; rejected while clones depend on it or a channel points
    /// at it. Removing the newest version rolls the image dataset back to the one before,
    /// and removing the last one destroys the image dataset.
    public func remove(name: String, version: String) throws {
        try withNameLock(name) {
            _ = try readManifest(name, version)
            let target = snapshot(name, version)
            let dependents = try zfs.rows(["get", "-H", "-r", "-o", "name,value", "origin",
                parent]).filter { $0.count == 2 && $0[1] == target }.map { $0[0] }
            guard dependents.isEmpty else {
                throw KFCError.failed(
                    "remove \(name)@\(version)",
                    "clones depend on it: \(dependents.joined(separator: ", "))")
            }
            try detachFromChannels(name: name, version: version)
            let wasNewest = try snapshotNames(name).last == version
            try zfs.destroy(target)
            if let newest = try snapshotNames(name).last {
                if wasNewest { try zfs.run(["rollback", snapshot(name, newest)]) }
            } else {
                // Without versions the dataset holds only the removed version's files, and
                // a later full receive needs the name free.
                try zfs.destroy(dataset(name))
            }
            logger.info("version removed", [("name", name), ("version", version)])
        }
    }
}
