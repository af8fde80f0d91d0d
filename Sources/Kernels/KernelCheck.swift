import Foundation
import KFCCore

/// Checks that a file is an x86_64 Linux kernel that Firecracker or QEMU microvm can boot.
public enum KernelCheck {
    /// The lowest physical address a kernel segment may use; Firecracker keeps the first
    /// MiB for boot structures (zero page, command line, MP tables).
    public static let lowestLoadAddress: UInt64 = 1 << 20

    /// Xen's note type XEN_ELFNOTE_PHYS32_ENTRY, the 32-bit PVH entry point.
    static let pvhNoteType: UInt32 = 18

    /// Checks the kernel at `path` for a guest with `memoryMiB` of memory (128 by default,
    /// Firecracker's default).
    ///
    /// Throws an invalid-input error for files that are not x86_64 ELF kernels: bzImages
    /// (naming `kfc-image kernel extract`), arm64 Images, other architectures, programs,
    /// truncated files and ELF files without a `Linux version` banner. Everything else is
    /// reported in the returned report's `problems`. When the kernel embeds no configuration,
    /// the options are read from `configPath` if given, and otherwise left unchecked with a
    /// note saying so.
    public static func check(path: String, memoryMiB: Int = 128, configPath: String? = nil)
        throws -> KernelReport
    {
        let view = ByteView(Array(try FileSystem.read(path)))
        guard view.count > 0 else { throw KFCError.invalid(path, "the file is empty") }
        if let rejection = KernelFormat.detect(view).rejection(path: path, view: view) {
            throw rejection
        }
        let elf = try ELFFile(view, name: path)
        try checkIsKernel(elf, path: path)
        guard let banner = banner(in: view) else {
            throw KFCError.invalid(path, "no 'Linux version' banner found: not a Linux kernel")
        }
        var report = KernelReport(
            path: path, bytes: Int64(view.count), entry: elf.entry, pvh: pvhEntry(elf),
            segments: elf.loadSegments, version: release(of: banner), banner: banner,
            configSource: nil, options: [], problems: [], notes: [])
        report.problems += placementProblems(report, memoryMiB: memoryMiB)
        try addConfiguration(to: &report, view: view, configPath: configPath)
        return report
    }

    /// Rejects ELF files that are not x86_64 kernels, and kernels cut short.
    private static func checkIsKernel(_ elf: ELFFile, path: String) throws {
        guard elf.machine == ELFFile.x86_64 else {
            throw KFCError.invalid(
                path,
                "built for \(ELFFile.machineName(elf.machine)), but this host runs x86_64 guests")
        }
        guard elf.is64Bit else {
            throw KFCError.invalid(path, "a 32-bit ELF file, but x86_64 kernels are ELF64")
        }
        if let interpreter = elf.interpreter {
            throw KFCError.invalid(
                path, "a dynamically linked program (interpreter \(interpreter)), not a kernel")
        }
        guard elf.type == ELFFile.executableType else {
            throw KFCError.invalid(
                path, "ELF type \(elf.type) is not ET_EXEC, so this is not a kernel image")
        }
        let loads = elf.loadSegments
        guard !loads.isEmpty else { throw KFCError.invalid(path, "no PT_LOAD segments") }
        for (index, segment) in loads.enumerated() {
            let end = segment.offset + segment.fileSize
            guard end <= UInt64(elf.view.count) else {
                throw KFCError.invalid(
                    path,
                    "truncated: PT_LOAD segment \(index) ends at byte \(end) but the file has "
                        + "\(elf.view.count) bytes")
            }
        }
    }

    /// Lists the problems with the placement of segments and entry points in guest memory.
    private static func placementProblems(_ report: KernelReport, memoryMiB: Int) -> [String] {
        var problems: [String] = []
        let memory = UInt64(memoryMiB) << 20
        for (index, segment) in report.segments.enumerated() {
            if segment.physicalAddress < lowestLoadAddress {
                problems.append(
                    "PT_LOAD segment \(index) starts below 1 MiB (physical "
                        + "0x\(String(segment.physicalAddress, radix: 16))), where the VMM "
                        + "puts its boot structures")
            }
        }
        if report.loadEnd > memory {
            let needed = (report.loadEnd + (1 << 20) - 1) >> 20
            problems.append(
                "the kernel needs at least \(needed) MiB of guest memory to load, "
                    + "but the guest has \(memoryMiB) MiB")
        }
        if !report.segments.contains(where: { $0.contains(report.entry) }) {
            problems.append("the entry point is outside every PT_LOAD segment")
        }
        if let pvh = report.pvh, !report.segments.contains(where: { $0.contains(pvh) }) {
            problems.append("the PVH entry point is outside every PT_LOAD segment")
        }
        return problems
    }

    /// Fills in the options from the embedded configuration or from `configPath`.
    private static func addConfiguration(
        to report: inout KernelReport, view: ByteView, configPath: String?
    ) throws {
        if let configPath, !FileSystem.exists(configPath) {
            throw KFCError.notFound("kernel config \(configPath)", "no such file")
        }
        var config = try KernelConfig.embedded(in: view, name: report.path)
        if config != nil {
            report.configSource = "embedded"
            if configPath != nil {
                report.notes.append("the embedded configuration was used, not the given file")
            }
        } else if let configPath {
            config = KernelConfig(text: String(decoding: try FileSystem.read(configPath),
                as: UTF8.self))
            report.configSource = configPath
        }
        guard let config else {
            report.notes.append(
                "the kernel has no embedded configuration (CONFIG_IKCONFIG), so the options "
                    + "a microVM needs could not be checked; give the .config file to check them")
            return
        }
        report.options = RequiredOption.microVM.map {
            OptionReport(name: $0.name, state: config.state(of: $0.name), reason: $0.reason)
        }
        report.problems += report.options.compactMap(\.problem)
    }

    /// Reads the PVH entry point from the Xen note as a 32- or 64-bit value.
    static func pvhEntry(_ elf: ELFFile) -> UInt64? {
        guard let note = elf.notes.first(where: { $0.name == "Xen" && $0.type == pvhNoteType })
        else { return nil }
        let view = ByteView(note.descriptor)
        return note.descriptor.count >= 8 ? view.u64(0) : view.u32(0).map(UInt64.init)
    }

    /// Finds the `Linux version …` banner line printed at boot (`linux_banner`), which
    /// contains the build number after `#`; falls back to the first occurrence.
    static func banner(in view: ByteView) -> String? {
        let prefix = Array("Linux version ".utf8)
        var first: String?
        var offset = 0
        while let hit = view.firstOffset(of: prefix, from: offset) {
            let line = (view.cString(at: hit, limit: 512) ?? "")
                .split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init)
                ?? ""
            if first == nil { first = line }
            if line.range(of: #"#[0-9]"#, options: .regularExpression) != nil { return line }
            offset = hit + prefix.count
        }
        return first
    }

    /// Returns the release in a banner, the word after `Linux version`.
    static func release(of banner: String) -> String? {
        banner.split(separator: " ").dropFirst(2).first.map(String.init)
    }
}
