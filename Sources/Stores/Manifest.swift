import Foundation

/// What a golden image version is made of and how it was made; `show --json` prints it.
///
/// Paths of files inside the version are relative to the version's folder when stored and
/// made absolute by the store when read back.
public struct VersionManifest: Codable, Sendable, Equatable {
    /// The recipe file and its digest.
    public struct RecipeRecord: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        public init(path: String, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }
    }

    /// One fetched input and its digest.
    public struct SourceRecord: Codable, Sendable, Equatable {
        public var url: String
        public var sha256: String
        public init(url: String, sha256: String) {
            self.url = url
            self.sha256 = sha256
        }
    }

    /// The ext4 image of the version.
    public struct ImageRecord: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        /// The image file's apparent size in bytes.
        public var bytes: Int64
        public var label: String?
        public var uuid: String?
        public init(path: String, sha256: String, bytes: Int64, label: String? = nil,
            uuid: String? = nil)
        {
            self.path = path
            self.sha256 = sha256
            self.bytes = bytes
            self.label = label
            self.uuid = uuid
        }
    }

    /// The guest kernel of the version.
    public struct KernelRecord: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        /// Where it came from: a URL, or the file given with `--kernel`.
        public var source: String?
        /// The `Linux version …` banner, when found.
        public var version: String?
        public init(path: String, sha256: String, source: String? = nil, version: String? = nil)
        {
            self.path = path
            self.sha256 = sha256
            self.source = source
            self.version = version
        }
    }

    /// The result of a boot test of the version.
    public struct VerificationRecord: Codable, Sendable, Equatable {
        /// Whether the guest reached its init and printed the marker.
        public var passed: Bool
        /// `firecracker` or `qemu`, with the accelerator for qemu (`qemu-tcg`, `qemu-kvm`).
        public var vmm: String
        /// Seconds from the VMM's start to the marker, when it appeared.
        public var secondsToMarker: Double?
        /// The serial console log.
        public var serialLog: String?
        /// When the test ran, ISO 8601 in UTC.
        public var date: String
        /// Why it failed, when it did.
        public var reason: String?
        public init(passed: Bool, vmm: String, secondsToMarker: Double?, serialLog: String?,
            date: String, reason: String?)
        {
            self.passed = passed
            self.vmm = vmm
            self.secondsToMarker = secondsToMarker
            self.serialLog = serialLog
            self.date = date
            self.reason = reason
        }
    }

    public var name: String
    public var version: String
    /// When the version was built, ISO 8601 in UTC.
    public var created: String
    public var recipe: RecipeRecord
    public var sources: [SourceRecord]
    /// The folder holding the root filesystem tree.
    public var tree: String
    public var image: ImageRecord
    public var kernel: KernelRecord?
    /// The time, in seconds since 1970, that every timestamp of the image is set from.
    public var epoch: Int64
    /// The kfc release that built it, as `kfc-image VERSION`.
    public var builder: String
    /// The last boot test, when one ran.
    public var verified: VerificationRecord?

    public init(
        name: String, version: String, created: String, recipe: RecipeRecord,
        sources: [SourceRecord], tree: String, image: ImageRecord, kernel: KernelRecord?,
        epoch: Int64, builder: String, verified: VerificationRecord? = nil
    ) {
        self.name = name
        self.version = version
        self.created = created
        self.recipe = recipe
        self.sources = sources
        self.tree = tree
        self.image = image
        self.kernel = kernel
        self.epoch = epoch
        self.builder = builder
        self.verified = verified
    }

    /// `NAME@VERSION`.
    public var reference: String { "\(name)@\(version)" }

    /// The manifest as pretty-printed JSON with sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Decodes a manifest from JSON.
    public static func decode(_ data: Data) throws -> VersionManifest {
        try JSONDecoder().decode(VersionManifest.self, from: data)
    }
}
