import Foundation
import KFCCore

/// The framing of `send` streams: a magic, a JSON header, then the payload.
///
///     "KFCSEND1"                 8 bytes
///     header length              4 bytes, big-endian
///     header                     JSON of `ReplicationHeader`
///     payload                    `payloadBytes` bytes of `kind`, sha256 `payloadSHA256`
///
/// The receiver copies the payload to a spool file while hashing it and applies nothing
/// until the length and digest match, so a cut or altered stream publishes nothing.
public enum ReplicationStream {
    /// The first bytes of every stream.
    public static let magic = Data("KFCSEND1".utf8)
    /// The largest header accepted, so a corrupt length cannot make the receiver allocate
    /// gigabytes.
    static let headerLimit = 16 << 20

    /// Writes the header and the payload file to `output`.
    static func write(_ header: ReplicationHeader, payload: String, to output: FileHandle)
        throws
    {
        let json = try JSONEncoder().encode(header)
        var length = UInt32(json.count).bigEndian
        var frame = magic
        frame.append(Data(bytes: &length, count: 4))
        frame.append(json)
        try output.write(contentsOf: frame)
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: payload))
        defer { try? input.close() }
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            try output.write(contentsOf: chunk)
        }
    }

    /// Reads and checks the magic and the header.
    static func readHeader(from input: FileHandle) throws -> ReplicationHeader {
        let context = "receive"
        let start = try readExactly(magic.count + 4, from: input)
        guard start.count == magic.count + 4, start.prefix(magic.count) == magic else {
            throw KFCError.invalid(context, "the input is not a kfc-image send stream")
        }
        let length = start.suffix(4).reduce(0) { $0 << 8 | Int($1) }
        guard length > 0, length <= headerLimit else {
            throw KFCError.invalid(context, "the stream header length \(length) is invalid")
        }
        let json = try readExactly(length, from: input)
        guard json.count == length else {
            throw KFCError.invalid(context, "the stream was cut inside its header")
        }
        do {
            return try JSONDecoder().decode(ReplicationHeader.self, from: json)
        } catch {
            throw KFCError.invalid(context, "the stream header is not valid JSON: \(error)")
        }
    }

    /// Copies the payload to `spool`, checking its length and digest and that nothing follows.
    static func readPayload(_ header: ReplicationHeader, from input: FileHandle, to spool: String)
        throws
    {
        let context = "receive \(header.manifest.reference)"
        // The spool file exists already and its flock marks it as in use for gc, so it is
        // opened and truncated rather than replaced.
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: spool))
        defer { try? output.close() }
        try output.truncate(atOffset: 0)
        let hasher = Digest.Hasher(.sha256)
        var copied: Int64 = 0
        while copied < header.payloadBytes {
            let want = Int(min(Int64(1 << 20), header.payloadBytes - copied))
            guard let chunk = try input.read(upToCount: want), !chunk.isEmpty else {
                throw KFCError.invalid(
                    context, "the stream was cut after \(copied) of \(header.payloadBytes) "
                        + "payload bytes; nothing was published")
            }
            hasher.update(chunk)
            try output.write(contentsOf: chunk)
            copied += Int64(chunk.count)
        }
        let digest = hasher.finish().hex
        guard digest == header.payloadSHA256 else {
            throw KFCError.invalid(
                context, "the payload has sha256 \(digest) but the stream header records "
                    + "\(header.payloadSHA256); the stream was altered, nothing was published")
        }
        if let extra = try input.read(upToCount: 1), !extra.isEmpty {
            throw KFCError.invalid(context, "the stream has data after its payload")
        }
        try output.synchronize()
    }

    private static func readExactly(_ count: Int, from input: FileHandle) throws -> Data {
        var data = Data()
        while data.count < count {
            guard let chunk = try input.read(upToCount: count - data.count), !chunk.isEmpty
            else { break }
            data.append(chunk)
        }
        return data
    }
}

/// The header of a replication stream: everything it carries besides the payload.
struct ReplicationHeader: Codable, Sendable {
    /// The payload format: `tar`, `tar-delta`, `zfs` or `btrfs`.
    var kind: String
    /// The manifest, with paths relative to the version folder and its verification record.
    var manifest: VersionManifest
    /// The version the payload is a delta against, for incremental streams.
    var base: String?
    /// Paths relative to the version folder that a `tar-delta` payload removes from `base`.
    var removed: [String]
    /// The payload's length in bytes.
    var payloadBytes: Int64
    /// The payload's sha256 in hex.
    var payloadSHA256: String
}

/// Builds a header for a finished payload file.
func makeHeader(kind: String, manifest: VersionManifest, base: String?, removed: [String] = [],
    payload: String) throws -> ReplicationHeader
{
    ReplicationHeader(
        kind: kind, manifest: manifest, base: base, removed: removed,
        payloadBytes: try FileSystem.size(payload),
        payloadSHA256: try Digest.ofFile(payload).hex)
}

/// Checks a received version's folder, for every store kind: its manifest file matches the
/// stream's and its image has the digest the manifest records.
func checkArrival(_ header: ReplicationHeader, folder: String) throws {
    var expected = header.manifest
    expected.verified = nil
    let path = "\(folder)/\(VersionLayout.manifest)"
    let stored = try VersionManifest.decode(try FileSystem.read(path))
    guard stored == expected else {
        throw KFCError.invalid(path, "differs from the manifest in the stream header")
    }
    try checkImageDigest(expected.absolute(in: folder))
}
