import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Little-endian reads and byte searches over a file's contents, with bounds checks.
public struct ByteView: Sendable {
    /// The bytes being read.
    public let bytes: [UInt8]

    /// Wraps `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The number of bytes.
    public var count: Int { bytes.count }

    /// Reads the unsigned integer of `width` bytes at `offset`; returns nil past the end.
    func unsigned(at offset: Int, width: Int) -> UInt64? {
        guard offset >= 0, width <= 8, offset <= bytes.count - width else { return nil }
        var value: UInt64 = 0
        for index in stride(from: width - 1, through: 0, by: -1) {
            value = value << 8 | UInt64(bytes[offset + index])
        }
        return value
    }

    /// Reads the byte at `offset`; returns nil past the end.
    public func u8(_ offset: Int) -> UInt8? {
        offset >= 0 && offset < bytes.count ? bytes[offset] : nil
    }

    /// Reads the little-endian 16-bit value at `offset`; returns nil past the end.
    public func u16(_ offset: Int) -> UInt16? {
        unsigned(at: offset, width: 2).map { UInt16($0) }
    }

    /// Reads the little-endian 32-bit value at `offset`; returns nil past the end.
    public func u32(_ offset: Int) -> UInt32? {
        unsigned(at: offset, width: 4).map { UInt32($0) }
    }

    /// Reads the little-endian 64-bit value at `offset`; returns nil past the end.
    public func u64(_ offset: Int) -> UInt64? {
        unsigned(at: offset, width: 8)
    }

    /// Returns whether the bytes at `offset` equal `expected`.
    public func matches(_ expected: [UInt8], at offset: Int) -> Bool {
        guard offset >= 0, offset <= bytes.count - expected.count else { return false }
        return bytes[offset..<(offset + expected.count)].elementsEqual(expected)
    }

    /// Finds the first occurrence of `needle` at or after `start` and returns its offset.
    ///
    /// memchr finds candidates for the first byte and memcmp confirms them. Swift's Glibc
    /// module does not export memmem, because glibc declares it only under _GNU_SOURCE.
    public func firstOffset(of needle: [UInt8], from start: Int = 0) -> Int? {
        guard !needle.isEmpty, start >= 0, start <= bytes.count - needle.count else {
            return nil
        }
        return bytes.withUnsafeBytes { haystack -> Int? in
            // Safe: both buffers live for the whole call and every pointer stays inside them.
            needle.withUnsafeBytes { pattern -> Int? in
                guard let base = haystack.baseAddress, let wanted = pattern.baseAddress,
                    let first = pattern.first
                else { return nil }
                let last = haystack.count - pattern.count
                var offset = start
                while offset <= last {
                    guard let hit = memchr(base + offset, Int32(first), last - offset + 1)
                    else { return nil }
                    let candidate = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(hit, wanted, pattern.count) == 0 { return candidate }
                    offset = candidate + 1
                }
                return nil
            }
        }
    }

    /// Copies the bytes in `range`, clamped to the end.
    public func slice(_ range: Range<Int>) -> [UInt8] {
        let lower = min(max(range.lowerBound, 0), bytes.count)
        let upper = min(max(range.upperBound, lower), bytes.count)
        return Array(bytes[lower..<upper])
    }

    /// Reads the NUL-terminated string at `offset`, at most `limit` bytes.
    public func cString(at offset: Int, limit: Int) -> String? {
        guard offset >= 0, offset < bytes.count else { return nil }
        let end = min(bytes.count, offset + limit)
        let stop = bytes[offset..<end].firstIndex(of: 0) ?? end
        return String(decoding: bytes[offset..<stop], as: UTF8.self)
    }

    /// Formats the first `count` bytes as hex pairs, for messages about unknown formats.
    public func hexPrefix(_ count: Int = 8) -> String {
        bytes.prefix(count).map { String(format: "%02x", $0) }.joined(separator: " ")
    }
}
