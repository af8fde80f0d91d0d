import Foundation
import KFCCore

/// The intended state of a KVM host, read from `/etc/kfc/host.yaml`.
///
/// Every field has a default, so an absent file at the default path means "all defaults".
/// Errors name the file, line and column of the offending key or value.
public struct HostConfig: Sendable, Equatable {
    /// The tool that loads the NAT rules.
    public enum NATBackend: String, Sendable, CaseIterable {
        /// nftables when `nft` is installed, else iptables.
        case auto
        case nftables
        case iptables
    }

    /// The file read when no `--config` is given.
    public static let defaultPath = "/etc/kfc/host.yaml"

    /// The keys a host config may have.
    public static let keys = [
        "store", "uplink", "range", "recipe", "binaries", "darksite", "executables", "nat",
    ]

    /// The golden image store spec: `dir:PATH`, `zfs:POOL/DATASET[,PROPERTY=VALUE…]` or
    /// `btrfs:PATH`, as `kfc-image --store` takes it.
    public var store = "dir:/var/lib/kfc"
    /// The interface microVM traffic leaves through; nil means the default route's interface.
    public var uplink: String?
    /// The IPv4 range of the microVMs, masqueraded out of the uplink.
    public var range = IPv4Network(address: 0xAC10_0000, prefixLength: 16)
    /// The recipe of the golden image built when the store has none: a path, or a name
    /// looked up in the recipe folders.
    public var recipe = "alpine"
    /// The offline folder holding the firecracker, jailer and firectl executables.
    public var binaries = "/root/darksite/binaries"
    /// The offline source folder passed to `kfc-image build`; used only when it exists.
    public var darksite = "/root/darksite"
    /// The folder of kfc's own release executables; nil means beside the running program.
    public var executables: String?
    /// The tool that loads the NAT rules.
    public var nat = NATBackend.auto
    /// The file the values came from, or nil when every value is a default.
    public var file: String?

    /// A config with every default.
    public init() {}

    /// Reads the config at `path`. A missing file is an error unless `path` is
    /// `defaultPath`, whose absence means all defaults.
    public static func load(_ path: String = defaultPath) throws -> HostConfig {
        guard FileSystem.exists(path) || path != defaultPath else { return HostConfig() }
        guard FileSystem.exists(path) else {
            throw KFCError.notFound(path, "host config not found")
        }
        return try HostConfig(YAML.load(file: path), file: path)
    }

    /// Validates a parsed host config document; an empty document means all defaults.
    public init(_ root: YAMLNode, file: String) throws {
        self.file = file
        if root.isNull { return }
        let fields = try root.mappingReader(allowed: HostConfig.keys)
        if let value = try fields.string("store") {
            _ = try StoreLocation(spec: value, at: fields.mark("store"))
            store = value
        }
        if let value = try fields.string("uplink") {
            uplink = try HostConfig.checkInterface(value, at: fields.mark("uplink"))
        }
        if let value = try fields.string("range") {
            guard let network = IPv4Network(value) else {
                throw fields.mark("range").error(
                    "invalid range '\(value)': expected an IPv4 network like 172.16.0.0/16")
            }
            range = network
        }
        for key in ["binaries", "darksite", "executables"] {
            guard let value = try fields.string(key) else { continue }
            try HostConfig.checkAbsolute(value, key: key, at: fields.mark(key))
        }
        recipe = try fields.string("recipe") ?? recipe
        binaries = try fields.string("binaries") ?? binaries
        darksite = try fields.string("darksite") ?? darksite
        executables = try fields.string("executables")
        if let value = try fields.string("nat") {
            guard let backend = NATBackend(rawValue: value) else {
                let known = NATBackend.allCases.map(\.rawValue).joined(separator: ", ")
                throw fields.mark("nat").error("invalid nat '\(value)' (expected one of \(known))")
            }
            nat = backend
        }
    }

    /// The store's folder or dataset, parsed from `store`.
    public var storeLocation: StoreLocation {
        get throws { try StoreLocation(spec: store) }
    }

    /// Each field and the value in effect, in the order of `keys`; defaults are marked.
    public var settings: [(key: String, value: String)] {
        [
            ("store", store),
            ("uplink", uplink ?? "(the interface of the default route)"),
            ("range", range.description),
            ("recipe", recipe),
            ("binaries", binaries),
            ("darksite", darksite),
            ("executables", executables ?? "(the folder of the running kfc-provision)"),
            ("nat", nat.rawValue),
        ]
    }

    static func checkInterface(_ name: String, at mark: SourceMark) throws -> String {
        // Linux limits interface names to IFNAMSIZ - 1 = 15 bytes, without '/' or spaces.
        let valid =
            !name.isEmpty && name.utf8.count <= 15 && name != "." && name != ".."
            && !name.contains { $0 == "/" || $0 == ":" || $0.isWhitespace || $0 == "\"" }
        guard valid else {
            throw mark.error("invalid uplink '\(name)': expected an interface name like eth0")
        }
        return name
    }

    static func checkAbsolute(_ path: String, key: String, at mark: SourceMark) throws {
        guard path.hasPrefix("/") else {
            throw mark.error("\(key) must be an absolute path, found '\(path)'")
        }
    }
}

/// An IPv4 network such as `172.16.0.0/16`, kept with its host bits cleared.
public struct IPv4Network: Sendable, Equatable, CustomStringConvertible {
    /// The network address as a 32-bit number, host bits zero.
    public var address: UInt32
    /// The number of leading one bits of the netmask, 0 to 32.
    public var prefixLength: Int

    /// Creates the network of `address` with `prefixLength` bits, clearing the host bits.
    public init(address: UInt32, prefixLength: Int) {
        let length = min(max(prefixLength, 0), 32)
        let mask: UInt32 = length == 0 ? 0 : UInt32.max << (32 - length)
        self.address = address & mask
        self.prefixLength = length
    }

    /// Parses `A.B.C.D/N`; returns nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), (0...32).contains(length),
            parts[1].allSatisfy(\.isASCII)
        else { return nil }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var address: UInt32 = 0
        for octet in octets {
            guard octet.count <= 3, octet.allSatisfy(\.isASCII), let value = UInt8(octet) else {
                return nil
            }
            address = address << 8 | UInt32(value)
        }
        self.init(address: address, prefixLength: length)
    }

    /// `A.B.C.D/N`.
    public var description: String {
        let octets = [24, 16, 8, 0].map { String(address >> UInt32($0) & 0xFF) }
        return octets.joined(separator: ".") + "/\(prefixLength)"
    }
}

/// The place of the golden image store: a folder (`dir:` and `btrfs:`) or a ZFS dataset.
public enum StoreLocation: Sendable, Equatable {
    /// A folder that the store fills; for btrfs it must be on a btrfs filesystem.
    case folder(String)
    /// A ZFS dataset with the properties to set on it, spec properties over the defaults.
    case zfs(dataset: String, properties: [ZFSProperty])

    /// The properties a ZFS store dataset gets unless the spec names them.
    // NOTE: 64K is a default for image files that was not measured here.
    public static let defaultZFSProperties = [
        ZFSProperty(name: "compression", value: "lz4"),
        ZFSProperty(name: "recordsize", value: "64K"),
    ]

    /// The values of the `compression` property, as the OpenZFS documentation's Compression
    /// page lists them; a pool may lack the feature some of them need.
    static let compressionValues = Set(
        ["on", "off", "lz4", "lzjb", "gzip", "zle", "zstd", "zstd-fast"]
            + (1...9).map { "gzip-\($0)" } + (1...19).map { "zstd-\($0)" }
            + (Array(1...10) + stride(from: 20, through: 100, by: 10) + [500, 1000])
            .map { "zstd-fast-\($0)" })

    /// Parses a store spec; errors are located at `mark` when one is given.
    public init(spec: String, at mark: SourceMark? = nil) throws {
        func invalid(_ reason: String) -> KFCError {
            let message = "invalid store '\(spec)': \(reason)"
            return mark?.error(message) ?? KFCError.invalid("store", message)
        }
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        let kind = parts.first ?? ""
        let target = parts.count > 1 ? parts[1] : ""
        switch kind {
        case "dir", "btrfs":
            guard target.hasPrefix("/") else {
                throw invalid("\(kind): needs an absolute path")
            }
            self = .folder(target)
        case "zfs":
            let pieces = target.split(separator: ",", omittingEmptySubsequences: false)
                .map(String.init)
            let dataset = pieces[0]
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_.:-/"))
            guard !dataset.isEmpty, !dataset.hasPrefix("/"), !dataset.hasSuffix("/"),
                !dataset.contains("//"), dataset.unicodeScalars.allSatisfy(allowed.contains)
            else {
                throw invalid("expected zfs:POOL/DATASET[,PROPERTY=VALUE...]")
            }
            var properties = StoreLocation.defaultZFSProperties
            for piece in pieces.dropFirst() {
                let property = try StoreLocation.property(piece, invalid: invalid)
                if let index = properties.firstIndex(where: { $0.name == property.name }) {
                    properties[index] = property
                } else {
                    properties.append(property)
                }
            }
            self = .zfs(dataset: dataset, properties: properties)
        default:
            throw invalid("expected dir:PATH, zfs:POOL/DATASET or btrfs:PATH")
        }
    }

    static func property(_ text: String, invalid: (String) -> KFCError) throws -> ZFSProperty {
        let pair = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else {
            throw invalid("'\(text)' is not PROPERTY=VALUE")
        }
        let property = ZFSProperty(name: pair[0], value: pair[1])
        if property.name == "compression", !compressionValues.contains(property.value) {
            throw invalid(
                "unknown compression '\(property.value)' (expected lz4, gzip-6, zstd, off, ...)")
        }
        if property.name == "recordsize" {
            let bytes = property.bytes ?? 0
            guard bytes >= 512, bytes <= 1 << 24, bytes & (bytes - 1) == 0 else {
                throw invalid(
                    "recordsize '\(property.value)' is not a power of two from 512 to 16M")
            }
        }
        return property
    }
}

/// A ZFS dataset property and the value to set, as written (`recordsize` `64K`).
public struct ZFSProperty: Sendable, Equatable {
    public var name: String
    public var value: String

    /// Creates a property setting.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// The value as a byte count when it is a size such as `64K`, as `zfs get -p` prints it.
    public var bytes: Int64? { ByteSize.parse(value) }

    /// `NAME=VALUE`, as `zfs create -o` and `zfs set` take it.
    public var assignment: String { "\(name)=\(value)" }
}
