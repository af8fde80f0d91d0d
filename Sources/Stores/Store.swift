import Foundation
import KFCCore

/// The file names inside a version's folder.
public enum VersionLayout {
    /// The root filesystem tree.
    public static let tree = "rootfs"
    /// The ext4 image.
    public static let image = "rootfs.ext4"
    /// The guest kernel.
    public static let kernel = "vmlinux"
    /// The manifest.
    public static let manifest = "manifest.json"
}

/// A version being built: a writable folder that becomes a version on `publish`.
public struct PendingVersion: Sendable {
    /// The image name, such as `alpine`.
    public var name: String
    /// The version it becomes when published.
    public var version: String
    /// The folder to write `VersionLayout` files into.
    public var path: String
    /// Store-private data, such as a temporary dataset name.
    public var token: String

    /// Creates a pending version; only stores call this.
    public init(name: String, version: String, path: String, token: String) {
        self.name = name
        self.version = version
        self.path = path
        self.token = token
    }
}

/// A reference `NAME`, `NAME@VERSION` or `NAME@CHANNEL` as typed by a user.
public struct VersionReference: Sendable, Equatable, CustomStringConvertible {
    /// The image name.
    public var name: String
    /// A version or a channel name; nil means the newest version.
    public var selector: String?

    /// Parses `NAME[@VERSION|@CHANNEL]`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        name = String(parts[0])
        selector = parts.count > 1 ? String(parts[1]) : nil
        guard !name.isEmpty, selector?.isEmpty != true else {
            throw KFCError.usage("invalid reference '\(text)': expected NAME or NAME@VERSION")
        }
    }

    /// Creates a reference from its parts.
    public init(name: String, selector: String?) {
        self.name = name
        self.selector = selector
    }

    /// `NAME` or `NAME@SELECTOR`.
    public var description: String { selector.map { "\(name)@\($0)" } ?? name }
}

/// Where golden image versions live: a folder, a ZFS dataset or a btrfs filesystem.
///
/// Builders call `beginVersion`, write into the folder it returns, then `publish` or
/// `discard`. Only the store knows whether publishing is a rename or a snapshot.
public protocol Store: Sendable {
    /// The spec this store was opened from, such as `dir:/var/lib/kfc`.
    var spec: String { get }

    /// Starts a new version of `name` whose version string is `PREFIX-N`, N one more than
    /// the highest existing one; safe against concurrent builds of the same name.
    func beginVersion(name: String, prefix: String) throws -> PendingVersion

    /// Makes `pending` an immutable version described by `manifest`, atomically.
    ///
    /// `manifest` holds paths relative to the pending folder; the returned one holds
    /// absolute paths. On failure nothing is published and the pending data is removed.
    func publish(_ pending: PendingVersion, manifest: VersionManifest) throws -> VersionManifest

    /// Removes a pending version and all it wrote.
    func discard(_ pending: PendingVersion)

    /// The manifests of every version, or of `name`'s, oldest first.
    func versions(name: String?) throws -> [VersionManifest]

    /// The manifest of the version `reference` selects (newest, a version or a channel).
    func manifest(_ reference: VersionReference) throws -> VersionManifest

    /// Records a boot test result in a version's manifest; the content stays immutable.
    func recordVerification(
        _ record: VersionManifest.VerificationRecord, name: String, version: String) throws

    /// The channels of every image, or of `name`'s, sorted by image and channel.
    func channels(name: String?) throws -> [ChannelRecord]

    /// Points `channel` of `name` at `version`, atomically, keeping the previous target in
    /// the channel's history.
    ///
    /// Rejects a version whose image no longer matches its manifest's digest and, when
    /// `requireVerified` is set, one without a passing verification record.
    func promote(name: String, version: String, channel: String, requireVerified: Bool)
        throws -> ChannelRecord

    /// Points `channel` of `name` back at the version it pointed at before the last
    /// promotion.
    func rollback(name: String, channel: String) throws -> ChannelRecord

    /// Makes a writable copy of the version `reference` selects at `destination`.
    func clone(_ reference: VersionReference, to destination: String) throws -> CloneRecord

    /// The clones made by `clone`, of every image or of `name`'s.
    func clones(name: String?) throws -> [CloneRecord]

    /// Removes a version; rejected while clones depend on it or a channel points at it.
    func remove(name: String, version: String) throws

    /// Writes a stream of `name@version` to `output`; incremental against `base` when given.
    ///
    /// The stream is framed by `ReplicationStream`: the manifest, the payload's length and
    /// its digest, so `receive` can reject a stream that was cut or altered.
    func send(name: String, version: String, base: String?, to output: FileHandle) throws

    /// Reads a stream written by `send` and publishes the version it carries.
    ///
    /// Nothing is published when the stream is cut, altered, or its image digest does not
    /// match the manifest. Returns the published manifest with absolute paths.
    func receive(from input: FileHandle) throws -> VersionManifest

    /// Removes leftovers of failed or killed operations and returns what it removed.
    func collectGarbage() throws -> [String]
}
