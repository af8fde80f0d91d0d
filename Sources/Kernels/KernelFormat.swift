import Foundation
import KFCCore

/// The kinds of file a user may give as a guest kernel, recognised by their magic numbers.
enum KernelFormat: Equatable {
    /// An ELF file, the only kind Firecracker on x86_64 loads.
    case elf
    /// An x86 bzImage: "MZ" at 0 when it has an EFI stub and "HdrS" at 0x202.
    case bzImage
    /// An arm64 `Image`, with "ARM\x64" at 0x38.
    case arm64Image
    /// A file compressed as a whole, such as `vmlinux.gz`.
    case compressed(String)
    /// Anything else.
    case unknown

    /// Detects the format of `view`.
    static func detect(_ view: ByteView) -> KernelFormat {
        if ELFFile.hasMagic(view) { return .elf }
        if view.matches(Array("HdrS".utf8), at: 0x202) { return .bzImage }
        if view.matches([0x41, 0x52, 0x4d, 0x64], at: 0x38) { return .arm64Image }
        let magics: [(String, [UInt8])] = [
            ("gzip", [0x1f, 0x8b]), ("xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
            ("zstd", [0x28, 0xb5, 0x2f, 0xfd]), ("bzip2", Array("BZh".utf8)),
        ]
        for (name, magic) in magics where view.matches(magic, at: 0) {
            return .compressed(name)
        }
        return .unknown
    }

    /// Returns the error that rejects a file of this format at `path`, or nil for ELF files.
    func rejection(path: String, view: ByteView) -> KFCError? {
        switch self {
        case .elf:
            return nil
        case .bzImage:
            return KFCError.invalid(
                path,
                "this is a compressed bzImage, but Firecracker loads only an uncompressed ELF "
                    + "vmlinux; run 'kfc-image kernel extract \(path) vmlinux' and use the output")
        case .arm64Image:
            return KFCError.invalid(
                path, "this is an arm64 Image kernel, but this host runs x86_64 guests")
        case .compressed(let name):
            return KFCError.invalid(
                path, "this is a \(name)-compressed file, not a kernel; decompress it first")
        case .unknown:
            return KFCError.invalid(
                path, "not a kernel: no ELF header (first bytes \(view.hexPrefix()))")
        }
    }
}
