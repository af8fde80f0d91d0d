import Foundation

/// The metadata of one archive entry, with names as raw bytes (they need not be UTF-8).
public struct ArchiveEntry: Sendable {
    /// What kind of file the entry is.
    public enum Kind: Sendable, Equatable {
        case regular, directory, symlink, characterDevice, blockDevice, fifo, socket
        /// A hard link to an earlier entry, whose path is `hardlinkTarget`.
        case hardlink
    }

    /// The path inside the archive, normalized: no leading `/` or `./`, no trailing `/`.
    public var path: [UInt8]
    public var kind: Kind
    /// Permission bits including setuid, setgid and sticky (`mode & 0o7777`).
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// The size of a regular file's content in bytes.
    public var size: Int64
    public var modificationTime: TimeSpec
    public var accessTime: TimeSpec?
    public var changeTime: TimeSpec?
    /// The target of a symlink, as stored.
    public var symlinkTarget: [UInt8]?
    /// The normalized path of the entry a hard link points at.
    public var hardlinkTarget: [UInt8]?
    /// Major and minor numbers of a device node.
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// Extended attributes, name to value, in archive order.
    public var xattrs: [(name: String, value: [UInt8])]

    /// The path as text, invalid bytes replaced, for messages.
    public var displayPath: String { String(decoding: path, as: UTF8.self) }
}

/// A time in seconds and nanoseconds since 1970.
public struct TimeSpec: Sendable, Equatable, Comparable {
    public var seconds: Int64
    public var nanoseconds: Int64

    public init(seconds: Int64, nanoseconds: Int64 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func < (lhs: TimeSpec, rhs: TimeSpec) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }
}

/// Path rules that keep every entry inside the folder it is unpacked into.
public enum EntryPath {
    /// Normalizes `raw`: drops leading `/` and `./` and empty or `.` components.
    ///
    /// Returns nil when a `..` component would leave the root, which is never allowed.
    public static func normalize(_ raw: [UInt8]) -> [UInt8]? {
        let slash = UInt8(ascii: "/")
        var components: [[UInt8]] = []
        for component in raw.split(separator: slash, omittingEmptySubsequences: true) {
            if component.elementsEqual([UInt8(ascii: ".")]) { continue }
            if component.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) { return nil }
            components.append(Array(component))
        }
        return Array(components.joined(separator: [slash]))
    }
}
