import Foundation
import KFCCore

/// One program header of an ELF file.
public struct ELFSegment: Sendable, Codable, Equatable {
    /// `p_type`, such as 1 for PT_LOAD.
    public var type: UInt32
    /// `p_flags` (1 execute, 2 write, 4 read).
    public var flags: UInt32
    /// The file offset of the segment's bytes.
    public var offset: UInt64
    /// The virtual address it is mapped at.
    public var virtualAddress: UInt64
    /// The physical address it is loaded at; Firecracker and QEMU load kernels by this.
    public var physicalAddress: UInt64
    /// The bytes it takes in the file.
    public var fileSize: UInt64
    /// The bytes it takes in memory (at least `fileSize`; the rest is zeroed).
    public var memorySize: UInt64

    /// Returns whether `address` falls inside the segment's physical or virtual range.
    public func contains(_ address: UInt64) -> Bool {
        let physical = address >= physicalAddress && address - physicalAddress < memorySize
        let virtual = address >= virtualAddress && address - virtualAddress < memorySize
        return physical || virtual
    }
}

/// An ELF note: owner name, type and descriptor bytes.
public struct ELFNote: Sendable, Equatable {
    /// The owner, such as `GNU`, `Linux` or `Xen`.
    public var name: String
    /// The note type, meaningful for its owner.
    public var type: UInt32
    /// The descriptor bytes.
    public var descriptor: [UInt8]
}

/// The header and program headers of a little-endian ELF file (32- or 64-bit).
public struct ELFFile: Sendable {
    /// ET_EXEC, a program or kernel loaded at fixed addresses.
    public static let executableType: UInt16 = 2
    /// ET_DYN, a shared object or position-independent program.
    public static let sharedObjectType: UInt16 = 3
    /// EM_X86_64.
    public static let x86_64: UInt16 = 62
    /// EM_AARCH64.
    public static let aarch64: UInt16 = 183
    /// PT_LOAD.
    public static let loadSegment: UInt32 = 1
    /// PT_INTERP.
    public static let interpreterSegment: UInt32 = 3
    /// PT_NOTE.
    public static let noteSegment: UInt32 = 4

    /// The file's bytes.
    public let view: ByteView
    /// Whether it is ELFCLASS64.
    public let is64Bit: Bool
    /// `e_type`.
    public let type: UInt16
    /// `e_machine`.
    public let machine: UInt16
    /// `e_entry`, the address execution starts at.
    public let entry: UInt64
    /// Every program header, in file order.
    public let segments: [ELFSegment]

    /// Returns whether `view` starts with the ELF magic `\x7fELF`.
    public static func hasMagic(_ view: ByteView) -> Bool {
        view.matches([0x7f, 0x45, 0x4c, 0x46], at: 0)
    }

    /// Parses the ELF header and program headers of `view`; `name` goes in errors.
    ///
    /// Throws an invalid-input error when the magic is missing, the file is big-endian, or
    /// the header or program header table runs past the end of the file.
    public init(_ view: ByteView, name: String) throws {
        guard ELFFile.hasMagic(view) else { throw KFCError.invalid(name, "not an ELF file") }
        guard let fileClass = view.u8(4), fileClass == 1 || fileClass == 2 else {
            throw KFCError.invalid(name, "unknown ELF class")
        }
        guard view.u8(5) == 1 else {
            throw KFCError.invalid(name, "big-endian ELF files are not supported")
        }
        let wide = fileClass == 2
        let headerSize = wide ? 64 : 52
        guard view.count >= headerSize else {
            throw KFCError.invalid(
                name, "truncated: \(view.count) bytes is too short for an ELF header")
        }
        self.view = view
        is64Bit = wide
        type = view.u16(16) ?? 0
        machine = view.u16(18) ?? 0
        entry = (wide ? view.u64(24) : view.u32(24).map(UInt64.init)) ?? 0
        segments = try ELFFile.programHeaders(view, wide: wide, name: name)
    }

    private static func programHeaders(_ view: ByteView, wide: Bool, name: String) throws
        -> [ELFSegment]
    {
        let tableOffset = (wide ? view.u64(32) : view.u32(28).map(UInt64.init)) ?? 0
        let entrySize = Int(view.u16(wide ? 54 : 42) ?? 0)
        let count = Int(view.u16(wide ? 56 : 44) ?? 0)
        guard count > 0 else { return [] }
        guard entrySize >= (wide ? 56 : 32) else {
            throw KFCError.invalid(name, "invalid ELF program header size \(entrySize)")
        }
        let tableEnd = tableOffset + UInt64(entrySize * count)
        guard tableEnd <= UInt64(view.count) else {
            throw KFCError.invalid(
                name,
                "truncated: the program headers end at byte \(tableEnd) but the file has "
                    + "\(view.count) bytes")
        }
        return (0..<count).map { index in
            let base = Int(tableOffset) + index * entrySize
            return wide ? segment64(view, base) : segment32(view, base)
        }
    }

    private static func segment64(_ view: ByteView, _ base: Int) -> ELFSegment {
        ELFSegment(
            type: view.u32(base) ?? 0, flags: view.u32(base + 4) ?? 0,
            offset: view.u64(base + 8) ?? 0, virtualAddress: view.u64(base + 16) ?? 0,
            physicalAddress: view.u64(base + 24) ?? 0, fileSize: view.u64(base + 32) ?? 0,
            memorySize: view.u64(base + 40) ?? 0)
    }

    private static func segment32(_ view: ByteView, _ base: Int) -> ELFSegment {
        let field = { (offset: Int) in UInt64(view.u32(base + offset) ?? 0) }
        return ELFSegment(
            type: UInt32(field(0)), flags: UInt32(field(24)), offset: field(4),
            virtualAddress: field(8), physicalAddress: field(12), fileSize: field(16),
            memorySize: field(20))
    }

    /// The PT_LOAD segments.
    public var loadSegments: [ELFSegment] { segments.filter { $0.type == ELFFile.loadSegment } }

    /// The program interpreter named by PT_INTERP, such as `/lib/ld-musl-x86_64.so.1`.
    public var interpreter: String? {
        guard let segment = segments.first(where: { $0.type == ELFFile.interpreterSegment })
        else { return nil }
        return view.cString(at: Int(clamping: segment.offset), limit: Int(segment.fileSize))
    }

    /// The notes of every PT_NOTE segment that lies inside the file.
    public var notes: [ELFNote] {
        segments.filter { $0.type == ELFFile.noteSegment }.flatMap { segment in
            ELFFile.parseNotes(
                view, from: Int(clamping: segment.offset),
                to: Int(clamping: segment.offset &+ segment.fileSize))
        }
    }

    private static func parseNotes(_ view: ByteView, from start: Int, to end: Int) -> [ELFNote]
    {
        var notes: [ELFNote] = []
        var offset = start
        let aligned = { (value: Int) in (value + 3) & ~3 }
        while offset + 12 <= min(end, view.count) {
            guard let nameSize = view.u32(offset).map(Int.init),
                let descriptorSize = view.u32(offset + 4).map(Int.init),
                let type = view.u32(offset + 8)
            else { break }
            let nameStart = offset + 12
            let descriptorStart = nameStart + aligned(nameSize)
            let next = descriptorStart + aligned(descriptorSize)
            guard next <= min(end, view.count) else { break }
            let name = view.cString(at: nameStart, limit: nameSize) ?? ""
            let descriptor = view.slice(descriptorStart..<(descriptorStart + descriptorSize))
            notes.append(ELFNote(name: name, type: type, descriptor: descriptor))
            offset = next
        }
        return notes
    }

    /// Returns the usual name of an `e_machine` value.
    public static func machineName(_ machine: UInt16) -> String {
        switch machine {
        case 3: "i386"
        case 40: "arm"
        case 62: "x86_64"
        case 183: "aarch64"
        case 243: "riscv"
        default: "machine \(machine)"
        }
    }
}
