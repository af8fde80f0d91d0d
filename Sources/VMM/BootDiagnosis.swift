import Foundation

/// Names the likely cause of a failed boot from what the guest printed on its console.
enum BootDiagnosis {
    /// A console pattern and the cause it points to.
    private struct Rule: Sendable {
        var pattern: String
        var cause: @Sendable (String) -> String
    }

    /// The rules in order of precedence; the first pattern found in the log decides.
    private static let rules: [Rule] = [
        Rule(pattern: "Requested init ") { line in
            "the init was not found or could not run (\(line)); check that it exists in the "
                + "image and that its interpreter does too"
        },
        Rule(pattern: "No working init found") { _ in
            "no init was found in the image; check /sbin/init and the init= argument"
        },
        Rule(pattern: "couldn't mount as ext4 due to feature incompatibilities") { line in
            "the kernel cannot mount the image's ext4 features (\(line))"
        },
        Rule(pattern: "No filesystem could mount root") { line in
            "filesystem not recognised (\(line)); check CONFIG_EXT4_FS and the image format"
        },
        Rule(pattern: "VFS: Cannot open root device") { line in
            "no root device (\(line)); check CONFIG_VIRTIO_MMIO, "
                + "CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES and CONFIG_VIRTIO_BLK"
        },
        Rule(pattern: "Unable to mount root fs") { line in
            "the root filesystem could not be mounted (\(line)); check CONFIG_VIRTIO_MMIO and "
                + "CONFIG_VIRTIO_BLK"
        },
        Rule(pattern: "Kernel panic - not syncing") { line in "the kernel panicked (\(line))" },
    ]

    /// Describes why `event` ended the boot without the marker, given the console `log`.
    static func cause(of event: SerialConsole.Event, log: String, vmmErrors: [String]) -> String
    {
        let lines = log.split(whereSeparator: \.isNewline).map(String.init)
        for rule in rules {
            if let line = lines.first(where: { $0.contains(rule.pattern) }) {
                return rule.cause(cleaned(line))
            }
        }
        if let line = vmmErrors.first(where: {
            $0.contains("KVM_EXIT_INTERNAL_ERROR") || $0.contains("KVM internal error")
        }) {
            return "KVM could not run the guest (\(line)); this host's KVM is not usable, so "
                + "boot with --vmm qemu, which falls back to TCG emulation"
        }
        switch event {
        case .marker: return "no failure"
        case .vmmError(let line): return "the VMM failed: \(line)"
        case .exited(let status):
            let last = vmmErrors.last.map { ": \($0)" } ?? ""
            return lines.isEmpty
                ? "the VMM exited with status \(status) before the kernel printed anything\(last)"
                : "the VMM exited with status \(status) before the marker appeared\(last)"
        case .panic: return "the kernel panicked"
        case .timedOut:
            return lines.isEmpty
                ? "timed out with an empty console: the kernel never started or its console "
                    + "is not ttyS0 (check CONFIG_SERIAL_8250_CONSOLE and console=ttyS0)"
                : "timed out before the marker appeared"
        }
    }

    /// Drops the `[    1.234567] ` timestamp the kernel puts in front of its messages.
    private static func cleaned(_ line: String) -> String {
        guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return line }
        return line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
    }
}
