import Foundation

/// A channel's target version and its earlier targets, as `list --json` prints them.
public struct ChannelRecord: Codable, Sendable, Equatable {
    /// The image name.
    public var name: String
    /// The channel name, such as `stable`.
    public var channel: String
    /// The version the channel points at.
    public var version: String
    /// The versions it pointed at before, oldest first; `rollback` takes the last one.
    public var history: [String]
    /// When the channel last moved, ISO 8601 in UTC.
    public var updated: String

    /// Creates a channel record.
    public init(name: String, channel: String, version: String, history: [String],
        updated: String)
    {
        self.name = name
        self.channel = channel
        self.version = version
        self.history = history
        self.updated = updated
    }
}

/// A writable copy of a version made for one microVM.
public struct CloneRecord: Codable, Sendable, Equatable {
    /// The image name.
    public var name: String
    /// The version it was copied from.
    public var version: String
    /// The folder holding the copy.
    public var path: String
    /// The copy method: `reflink-or-copy`, `zfs-clone` or `btrfs-snapshot`.
    public var method: String
    /// The ZFS dataset of the copy, for ZFS clones.
    public var dataset: String?
    /// When it was made, ISO 8601 in UTC.
    public var created: String

    /// Creates a clone record.
    public init(name: String, version: String, path: String, method: String,
        dataset: String? = nil, created: String)
    {
        self.name = name
        self.version = version
        self.path = path
        self.method = method
        self.dataset = dataset
        self.created = created
    }
}

/// The current time as ISO 8601 in UTC, the format of every date a store writes.
func timestampNow() -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: Date())
}
