import Foundation
import KFCCore

/// The UUID and directory hash seed of an image, derived from its inputs unless given.
struct ImageIdentity {
    var uuid: [UInt8]
    var hashSeed: [UInt8]

    /// Uses `uuid` and derives the hash seed from it.
    init(uuid: UUID) {
        self.uuid = withUnsafeBytes(of: uuid.uuid) { Array($0) }
        let seed = ImageIdentity.digestBytes(Data("kfc ext4 hash seed".utf8) + Data(self.uuid))
        hashSeed = Array(seed.prefix(16))
    }

    /// Derives both from `digest` (of the tree's metadata and content): the UUID from its
    /// first 16 bytes, marked as a custom (version 8) UUID of RFC 9562 because SHA-256 is
    /// not one of the name-based versions, and the seed from the next 16.
    init(digest: [UInt8]) {
        var bytes = Array(digest.prefix(16))
        bytes[6] = (bytes[6] & 0x0f) | 0x80
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        uuid = bytes
        hashSeed = Array(digest[16..<32])
    }

    var foundationUUID: UUID {
        let u = uuid
        return UUID(
            uuid: (
                u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
                u[12], u[13], u[14], u[15]
            ))
    }

    /// Adds everything the image records about `tree` except file content to `hasher`,
    /// in entry order and with no host-specific values (no paths above the tree, no
    /// source inode numbers, times clamped to `epoch`).
    static func addMetadata(of tree: SourceTree, epoch: Int64, to hasher: Digest.Hasher) {
        var bytes: [UInt8] = []
        for (index, entry) in tree.entries.enumerated() {
            bytes.removeAll(keepingCapacity: true)
            append(&bytes, UInt64(index), UInt64(entry.parent), UInt64(entry.kind.rawValue))
            append(&bytes, UInt64(entry.permissions), UInt64(entry.uid), UInt64(entry.gid))
            append(&bytes, UInt64(bitPattern: entry.size), UInt64(entry.deviceMajor))
            append(&bytes, UInt64(entry.deviceMinor), UInt64(entry.hardLinkOf.map { $0 + 1 } ?? 0))
            for time in [entry.accessTime, entry.modificationTime, entry.changeTime] {
                let clamped = time.clamped(to: epoch)
                append(&bytes, UInt64(bitPattern: clamped.seconds), UInt64(clamped.nanoseconds))
            }
            appendBytes(&bytes, entry.name)
            appendBytes(&bytes, entry.target)
            for attribute in entry.attributes {
                appendBytes(&bytes, attribute.name)
                appendBytes(&bytes, attribute.value)
            }
            bytes.withUnsafeBytes { hasher.update($0) }
        }
    }

    private static func append(_ bytes: inout [UInt8], _ values: UInt64...) {
        for value in values { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    }

    private static func appendBytes(_ bytes: inout [UInt8], _ field: [UInt8]) {
        append(&bytes, UInt64(field.count))
        bytes += field
    }

    /// Returns the SHA-256 of `data` as bytes.
    static func digestBytes(_ data: Data) -> [UInt8] {
        bytes(of: Digest.of(data))
    }

    /// Decodes a digest's hex form into bytes.
    static func bytes(of digest: Digest) -> [UInt8] {
        var result: [UInt8] = []
        var characters = digest.hex.makeIterator()
        while let high = characters.next(), let low = characters.next() {
            // Digest guarantees lowercase hex digits, so both parse.
            result.append(UInt8(String([high, low]), radix: 16)!)
        }
        return result
    }
}
