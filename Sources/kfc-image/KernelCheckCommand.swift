import Foundation
import KFCCore
import Kernels

/// `kfc-image kernel check`: reports whether a file is a kernel a microVM can boot.
let kernelCheckCommand = Subcommand(
    "check", summary: "check a guest kernel",
    usage: """
        check: checks that FILE is an uncompressed x86_64 ELF kernel that Firecracker and
        QEMU microvm can boot. It prints the version, entry points, PT_LOAD segments and
        the state of each kernel option a microVM needs, read from the embedded
        configuration (CONFIG_IKCONFIG) or from --config. Exits with 1 when a problem was
        found.
          --json           print the report as JSON
          --memory MIB     guest memory the segments must fit in (default: 128)
          --config FILE    the kernel's .config, for kernels without an embedded one
        """,
    run: { arguments, _ in
        let json = arguments.flag("--json")
        let memory = try arguments.option("--memory").map(parseMemory) ?? 128
        let config = try arguments.option("--config")
        let path = try arguments.positional("FILE")
        try arguments.finish()
        let report = try KernelCheck.check(path: path, memoryMiB: memory, configPath: config)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            StandardOutput.line(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            StandardOutput.line(report.text)
        }
        return report.isBootable ? 0 : 1
    })

/// Parses a `--memory` value in MiB.
func parseMemory(_ text: String) throws -> Int {
    guard let value = Int(text), value > 0 else {
        throw KFCError.usage("invalid --memory '\(text)': expected a number of MiB")
    }
    return value
}
