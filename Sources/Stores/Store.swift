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

    public init(name: String, version: String, path: String, token: String) {
        self.name = name
        self.version = version
        self.path = path
        self.token = token
    }
}

/// A reference `NAME`, `NAME@VERSION` or `NAME@CHANNEL` as typed by a user.
public struct VersionReference: Sendable, Equatable, CustomStringConvertible {
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

    public init(name: String, selector: String?) {
        self.name = name
        self.selector = selector
    }

    public var description: String { selector.map { "\(name)@\($0)" } ?? name }
}

/// Where golden image versions live: a folder, a ZFS dataset or a btrfs filesystem.
///
/// Builders call `beginVersion`, write into the folder it returns, then `publish` or
/// `discard`. Only the store knows whether publishing is a rename or a snapshot.
public protocol Store: Sendable {
    /// The spec this store was opened from, such as `dir:/var/lib/kfc`.
    var spec: String { get }

    /// Starts a new version of `name` whose version string starts with `prefix`.
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
}
