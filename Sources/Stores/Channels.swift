import Foundation
import KFCCore

/// The primitives that the shared channel logic needs from a store.
protocol StoreBackend: Store {
    /// The stored channel records of `name`, or of every image.
    func readChannels(name: String?) throws -> [ChannelRecord]
    /// Replaces a channel record atomically: readers see the old record or the new one.
    func writeChannel(_ record: ChannelRecord) throws
    /// Removes a channel record.
    func deleteChannel(name: String, channel: String) throws
    /// Runs `body` while no other process changes the versions or channels of `name`.
    func withNameLock<T>(_ name: String, _ body: () throws -> T) throws -> T
    /// Runs `body` with a manifest whose paths can be read, such as a snapshot's files.
    func withContents<T>(_ manifest: VersionManifest, _ body: (VersionManifest) throws -> T)
        throws -> T
}

/// The maximum number of channel history entries; promotion drops older ones.
let channelHistoryLimit = 50

/// The manifest `reference` selects: the newest version, a version, or a channel's target.
func resolveReference(_ reference: VersionReference, in store: any Store) throws
    -> VersionManifest
{
    let versions = try store.versions(name: reference.name)
    guard let newest = versions.last else {
        throw KFCError.notFound(reference.name, "no versions in \(store.spec)")
    }
    guard let selector = reference.selector else { return newest }
    if let match = versions.first(where: { $0.version == selector }) { return match }
    let channels = try store.channels(name: reference.name)
    guard let channel = channels.first(where: { $0.channel == selector }) else {
        throw KFCError.notFound(
            reference.description, "no such version or channel in \(store.spec)")
    }
    guard let target = versions.first(where: { $0.version == channel.version }) else {
        throw KFCError.failed(
            reference.description, "the channel points at \(channel.version), which is missing")
    }
    return target
}

/// Checks that a version's image file still has the digest its manifest records.
public func checkImageDigest(_ manifest: VersionManifest) throws {
    let actual = try Digest.ofFile(manifest.image.path).hex
    let expected = manifest.image.sha256.split(separator: ":").last.map(String.init) ?? ""
    guard actual == expected.lowercased() else {
        throw KFCError.invalid(
            manifest.reference,
            "the image \(manifest.image.path) has sha256 \(actual), but the manifest records "
                + expected)
    }
}

extension StoreBackend {
    /// The shared implementation of `promote`.
    func promoteChannel(name: String, version: String, channel: String, requireVerified: Bool)
        throws -> ChannelRecord
    {
        try Names.validateChannel(channel)
        return try withNameLock(name) {
            let manifest = try resolveReference(
                VersionReference(name: name, selector: version), in: self)
            guard manifest.version == version else {
                throw KFCError.invalid("\(name)@\(version)", "is a channel, not a version")
            }
            try withContents(manifest) { try checkImageDigest($0) }
            if requireVerified, manifest.verified?.passed != true {
                let reason = manifest.verified == nil ? "has no verification record"
                    : "failed its last verification"
                throw KFCError.invalid(manifest.reference, "\(reason) (--require-verified)")
            }
            let current = try readChannels(name: name).first { $0.channel == channel }
            if let current, current.version == version { return current }
            var history = current.map { $0.history + [$0.version] } ?? []
            history = Array(history.suffix(channelHistoryLimit))
            let record = ChannelRecord(
                name: name, channel: channel, version: version, history: history,
                updated: timestampNow())
            try writeChannel(record)
            return record
        }
    }

    /// The shared implementation of `rollback`.
    func rollbackChannel(name: String, channel: String) throws -> ChannelRecord {
        try withNameLock(name) {
            guard let current = try readChannels(name: name).first(where: {
                $0.channel == channel
            }) else {
                throw KFCError.notFound("\(name)@\(channel)", "no such channel in \(spec)")
            }
            guard let previous = current.history.last else {
                throw KFCError.failed(
                    "rollback \(name)@\(channel)", "the channel has no earlier version")
            }
            let record = ChannelRecord(
                name: name, channel: channel, version: previous,
                history: Array(current.history.dropLast()), updated: timestampNow())
            try writeChannel(record)
            return record
        }
    }

    /// Checks that no channel points at `version`, and drops it from channel histories.
    func detachFromChannels(name: String, version: String) throws {
        let records = try readChannels(name: name)
        let pointing = records.filter { $0.version == version }.map(\.channel)
        guard pointing.isEmpty else {
            throw KFCError.failed(
                "remove \(name)@\(version)",
                "channels point at it: \(pointing.joined(separator: ", ")); promote another "
                    + "version first")
        }
        for var record in records where record.history.contains(version) {
            record.history.removeAll { $0 == version }
            try writeChannel(record)
        }
    }
}
