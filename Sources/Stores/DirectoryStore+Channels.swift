import Foundation
import KFCCore

extension DirectoryStore: StoreBackend {
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
        let names = try name.map { [$0] } ?? entries("\(root)/channels")
        var records: [ChannelRecord] = []
        for image in names {
            let folder = "\(root)/channels/\(image)"
            for file in try entries(folder) where file.hasSuffix(".json") {
                let path = "\(folder)/\(file)"
                records.append(try withContext("read \(path)") {
                    try JSONDecoder().decode(ChannelRecord.self, from: try FileSystem.read(path))
                })
            }
        }
        return records.sorted { ($0.name, $0.channel) < ($1.name, $1.channel) }
    }

    func writeChannel(_ record: ChannelRecord) throws {
        let folder = "\(root)/channels/\(record.name)"
        try FileSystem.createDirectory(folder)
        try FileSystem.writeAtomically(try encodeRecord(record), to: "\(folder)/\(record.channel).json")
        try syncFolder(folder)
    }

    func deleteChannel(name: String, channel: String) throws {
        try FileSystem.remove("\(root)/channels/\(name)/\(channel).json")
    }

    func withNameLock<T>(_ name: String, _ body: () throws -> T) throws -> T {
        try Names.validate(name, as: "image name")
        return try FileLock.withLock(lockPath(name), body)
    }

    func withContents<T>(_ manifest: VersionManifest, _ body: (VersionManifest) throws -> T)
        throws -> T
    {
        try body(manifest)
    }
}

/// `value` as pretty-printed JSON with sorted keys, the form every record file has.
func encodeRecord<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(value)
}
