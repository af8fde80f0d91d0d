import Foundation
import KFCCore

/// The parts of an x86 bzImage's setup header that locate its compressed payload.
///
/// Offsets are those of the Linux x86 boot protocol (Documentation/arch/x86/boot.rst):
/// `setup_sects` at 0x1f1, the "HdrS" magic at 0x202, the protocol version at 0x206, and,
/// from protocol 2.08 on, `payload_offset` and `payload_length` at 0x248 and 0x24c.
struct BzImage {
    /// The boot protocol version, such as 0x020f for 2.15.
    let protocolVersion: UInt16
    /// The file offset of the protected-mode code.
    let protectedModeOffset: Int
    /// The compressed payload's place in the file, including its 4-byte size trailer.
    let payload: Range<Int>
    /// The compressed stream within the file: the payload without the size trailer that
    /// the kernel build appends to every compression but gzip, whose own trailer ends
    /// with the size.
    let stream: Range<Int>
    /// The size of the uncompressed kernel modulo 2^32, from the payload's last 4 bytes.
    let uncompressedSize: UInt32
    /// The CRC-32 of the uncompressed kernel, stored by gzip before its size.
    let gzipCRC: UInt32?

    /// Reads the setup header of `view`; `name` goes in errors.
    init(_ view: ByteView, name: String) throws {
        guard view.matches(Array("HdrS".utf8), at: 0x202) else {
            if ELFFile.hasMagic(view) {
                throw KFCError.invalid(
                    name,
                    "this is already an uncompressed ELF kernel, so there is nothing to extract")
            }
            throw KFCError.invalid(name, "not a bzImage: no 'HdrS' setup header at 0x202")
        }
        let version = view.u16(0x206) ?? 0
        guard version >= 0x0208 else {
            throw KFCError.invalid(
                name,
                "boot protocol \(version >> 8).\(version & 0xff) predates payload fields "
                    + "(2.08 or later is needed)")
        }
        // A setup_sects of 0 means 4, for compatibility with ancient kernels.
        let sectors = Int(view.u8(0x1f1) ?? 0)
        protectedModeOffset = ((sectors == 0 ? 4 : sectors) + 1) * 512
        protocolVersion = version
        let offset = protectedModeOffset + Int(view.u32(0x248) ?? 0)
        let length = Int(view.u32(0x24c) ?? 0)
        guard length > 8, offset + length <= view.count else {
            throw KFCError.invalid(
                name,
                "truncated: the payload needs bytes \(offset)..<\(offset + length) but the file "
                    + "has \(view.count) bytes")
        }
        payload = offset..<(offset + length)
        uncompressedSize = view.u32(payload.upperBound - 4) ?? 0
        if view.matches([0x1f, 0x8b], at: offset) {
            stream = payload
            gzipCRC = view.u32(payload.upperBound - 8)
        } else {
            stream = payload.lowerBound..<(payload.upperBound - 4)
            gzipCRC = nil
        }
    }
}
