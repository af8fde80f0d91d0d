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
        "compression", "recordsize",
    ]

    /// The compression values `zfs set compression=` accepts (OpenZFS 2.1).
    static let compressionValues = Set(
        ["on", "off", "lz4", "lzjb", "gzip", "zle", "zstd", "zstd-fast"]
            + (1...9).map { "gzip-\($0)" } + (1...19).map { "zstd-\($0)" })

    /// The golden image store spec: `dir:PATH`, `zfs:POOL/DATASET` or `btrfs:PATH`.
    public var store = "dir:/var/lib/kfc"
    /// The interface microVM traffic leaves through; nil means the default route's interface.
    public var uplink: String?
    /// The IPv4 range of the microVMs, masqueraded out of the uplink.
    public var range = IPv4Network(address: 0xAC10_0000, prefixLength: 16)
    /// The recipe of the golden image built when the store has none.
    public var recipe = "/etc/kfc/recipes/alpine.yaml"
    /// The offline folder holding the firecracker, jailer and firectl executables.
    public var binaries = "/root/darksite/binaries"
    /// The offline source folder passed to `kfc-image build`; used only when it exists.
    public var darksite = "/root/darksite"
    /// The folder of kfc's own release executables; nil means beside the running program.
    public var executables: String?
    /// The tool that loads the NAT rules.
    public var nat = NATBackend.auto
    /// The `compression` property of the ZFS store dataset.
    public var compression = "lz4"
    /// The `recordsize` property of the ZFS store dataset, as written (`64K`).
    public var recordsize = "64K"
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
            store = try HostConfig.checkStore(value, at: fields.mark("store"))
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
        for key in ["recipe", "binaries", "darksite", "executables"] {
            guard let value = try fields.string(key) else { continue }
            try HostConfig.checkAbsolute(value, key: key, at: fields.mark(key))
        }
        recipe = try fields.string("recipe") ?? recipe
        binaries = try fields.string("binaries") ?? binaries
        darksite = try fields.string("darksite") ?? darksite
        executables = try fields.string("executables")
        try readZFSProperties(fields)
        if let value = try fields.string("nat") {
            guard let backend = NATBackend(rawValue: value) else {
                let known = NATBackend.allCases.map(\.rawValue).joined(separator: ", ")
                throw fields.mark("nat").error("invalid nat '\(value)' (expected one of \(known))")
            }
            nat = backend
        }
    }

    private mutating func readZFSProperties(_ fields: MappingReader) throws {
        if let value = try fields.string("compression") {
            guard HostConfig.compressionValues.contains(value) else {
                throw fields.mark("compression").error(
                    "invalid compression '\(value)' (expected lz4, gzip-6, zstd, off, ...)")
            }
            compression = value
        }
        if let value = try fields.string("recordsize") {
            let bytes = ByteSize.parse(value) ?? 0
            guard bytes >= 512, bytes <= 1 << 24, bytes & (bytes - 1) == 0 else {
                throw fields.mark("recordsize").error(
                    "invalid recordsize '\(value)': expected a power of two from 512 to 16M")
            }
            recordsize = value
        }
    }

    /// The `recordsize` in bytes.
    public var recordsizeBytes: Int64 { ByteSize.parse(recordsize) ?? 0 }

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
            ("compression", compression),
            ("recordsize", recordsize),
        ]
    }

    static func checkStore(_ spec: String, at mark: SourceMark) throws -> String {
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        let kind = parts.first ?? ""
        let target = parts.count > 1 ? parts[1] : ""
        switch kind {
        case "dir", "btrfs":
            guard target.hasPrefix("/") else {
                throw mark.error("invalid store '\(spec)': \(kind): needs an absolute path")
            }
        case "zfs":
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_.:-/"))
            guard !target.isEmpty, !target.hasPrefix("/"), !target.hasSuffix("/"),
                !target.contains("//"), target.unicodeScalars.allSatisfy(allowed.contains)
            else {
                throw mark.error("invalid store '\(spec)': expected zfs:POOL/DATASET")
            }
        default:
            throw mark.error(
                "invalid store '\(spec)': expected dir:PATH, zfs:POOL/DATASET or btrfs:PATH")
        }
        return spec
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
