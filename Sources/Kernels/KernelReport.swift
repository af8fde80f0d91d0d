import Foundation

/// The findings of `KernelCheck` on a guest kernel file.
///
/// A report exists only for an x86_64 ELF kernel; other files are rejected with an error.
/// `problems` lists what would stop the kernel from booting a microVM; `notes` lists what
/// could not be checked.
public struct KernelReport: Sendable, Codable, Equatable {
    /// The file checked.
    public var path: String
    /// Its size in bytes.
    public var bytes: Int64
    /// The ELF entry point (`e_entry`), a physical address for x86_64 vmlinux files.
    public var entry: UInt64
    /// The PVH entry point from the XEN_ELFNOTE_PHYS32_ENTRY note, when the kernel has one.
    public var pvh: UInt64?
    /// The PT_LOAD segments.
    public var segments: [ELFSegment]
    /// The release from the banner, such as `6.1.192`.
    public var version: String?
    /// The whole `Linux version …` banner line.
    public var banner: String?
    /// The source of the configuration: `embedded`, a file path, or nil when none was found.
    public var configSource: String?
    /// The required options and their states; empty when no configuration was found.
    public var options: [OptionReport]
    /// The faults that would stop the kernel from booting a microVM.
    public var problems: [String]
    /// The checks that could not be made, with the reason.
    public var notes: [String]

    /// Whether no problem was found.
    public var isBootable: Bool { problems.isEmpty }

    /// The highest physical address the loaded kernel occupies, in bytes.
    public var loadEnd: UInt64 {
        segments.map { $0.physicalAddress + $0.memorySize }.max() ?? 0
    }

    /// The report as lines of text for a terminal.
    public var text: String {
        var lines = ["kernel: \(path)"]
        lines.append("version: \(banner ?? "unknown")")
        lines.append("entry: \(hex(entry))")
        lines.append("pvh entry: \(pvh.map(hex) ?? "none")")
        for (index, segment) in segments.enumerated() {
            lines.append(
                "segment \(index): physical \(hex(segment.physicalAddress)), "
                    + "\(segment.memorySize) bytes in memory, \(segment.fileSize) in the file")
        }
        lines.append("config: \(configSource ?? "none")")
        lines += options.map { "  CONFIG_\($0.name): \($0.state.rawValue)" }
        lines += notes.map { "note: \($0)" }
        lines += problems.map { "problem: \($0)" }
        lines.append(isBootable ? "result: bootable" : "result: \(problems.count) problem(s)")
        return lines.joined(separator: "\n")
    }

    private func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}
