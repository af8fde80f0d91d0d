import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// Boots a microVM with QEMU's `microvm` machine, trying KVM first when /dev/kvm opens and
/// falling back to TCG emulation when the KVM guest fails.
///
/// With `acpi=off` QEMU adds the `virtio_mmio.device=` kernel arguments itself, as
/// Firecracker does, so the same kernel and command line boot under both.
public struct QEMUDriver: MicroVMDriver {
    /// A QEMU accelerator.
    public enum Accelerator: String, Sendable {
        /// Hardware virtualisation through /dev/kvm.
        case kvm
        /// Software emulation, slower but available everywhere.
        case tcg
    }

    /// The QEMU program.
    public var program: String
    /// The accelerators to try, in order; nil picks KVM then TCG when /dev/kvm opens.
    public var accelerators: [Accelerator]?

    /// Stderr lines after which a KVM guest never recovers, so TCG is tried instead.
    static let kvmFailures = [
        "KVM internal error", "failed to initialize kvm", "Could not access KVM kernel module",
        "kvm run failed",
    ]

    /// Creates a driver for `program` (found in PATH).
    public init(program: String = "qemu-system-x86_64", accelerators: [Accelerator]? = nil) {
        self.program = program
        self.accelerators = accelerators
    }

    /// Whether /dev/kvm can be opened for reading and writing.
    public static var kvmAvailable: Bool {
        let fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    public func boot(_ request: BootRequest, logger: Logger) throws -> BootOutcome {
        let useKVM = QEMUDriver.kvmAvailable && !KVMHealth.shared.hasFailed
        if QEMUDriver.kvmAvailable, !useKVM, accelerators == nil {
            logger.info("skipping KVM, which failed earlier in this process")
        }
        let order = accelerators ?? (useKVM ? [.kvm, .tcg] : [.tcg])
        var outcome: BootOutcome?
        for (index, accelerator) in order.enumerated() {
            let isLast = index == order.count - 1
            let attempt = try boot(request, accelerator: accelerator, logger: logger)
            if let attempt {
                outcome = attempt
                break
            }
            if !isLast {
                logger.info(
                    "KVM guest failed, falling back", [("next", order[index + 1].rawValue)])
            }
        }
        // Only a KVM attempt yields no outcome, so this is reached when KVM was the last
        // accelerator to try and its guest failed.
        guard let outcome else {
            throw KFCError.failed(
                "boot \(request.image) with qemu",
                "the KVM guest failed (a KVM internal error, or KVM unusable on this host); "
                    + "try --accel tcg")
        }
        return outcome
    }

    /// Boots once with `accelerator`; returns nil when a KVM guest failed and another
    /// accelerator should be tried.
    private func boot(_ request: BootRequest, accelerator: Accelerator, logger: Logger) throws
        -> BootOutcome?
    {
        let command = Command(program, arguments(request, accelerator: accelerator))
        let errorPath = "\(request.workDirectory)/qemu-\(accelerator.rawValue).stderr"
        try? FileSystem.remove(request.serialLogPath)
        let process = try VMMProcess(
            command, outputPath: "\(request.workDirectory)/qemu.stdout", errorPath: errorPath,
            logger: logger)
        defer { process.stop() }
        logger.info("booting microVM", [("vmm", "qemu"), ("accel", accelerator.rawValue)])

        let console = SerialConsole(path: request.serialLogPath)
        let fatal = accelerator == .kvm ? QEMUDriver.kvmFailures : []
        let event = console.wait(
            for: request.marker, process: process, timeout: request.timeout, fatalErrors: fatal)
        if accelerator == .kvm, kvmFailed(event, process: process) {
            KVMHealth.shared.recordFailure()
            return nil
        }
        if case .exited(let status) = event, status != 0, console.text.isEmpty {
            throw KFCError.failed(
                command.commandLine, "exited with status \(status) before booting",
                details: process.errorLines())
        }
        return finish(event, process: process, console: console, vmm: "qemu-\(accelerator)")
    }

    private func kvmFailed(_ event: SerialConsole.Event, process: VMMProcess) -> Bool {
        switch event {
        case .vmmError: return true
        case .exited(let status):
            return status != 0
                && process.errorLines(50).contains { $0.localizedCaseInsensitiveContains("kvm") }
        default: return false
        }
    }

    private func arguments(_ request: BootRequest, accelerator: Accelerator) -> [String] {
        // QEMU option values separate their fields with commas; a comma in a path is doubled.
        let escape = { (path: String) in path.replacingOccurrences(of: ",", with: ",,") }
        return [
            "-M", "microvm,accel=\(accelerator.rawValue),acpi=off",
            "-m", "\(request.memoryMiB)", "-smp", "\(request.vcpus)",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-chardev", "file,id=console,path=\(escape(request.serialLogPath))",
            "-serial", "chardev:console",
            "-kernel", request.kernel, "-append", request.commandLine,
            "-drive", "id=root,file=\(escape(request.image)),format=raw,if=none",
            "-device", "virtio-blk-device,drive=root",
        ]
    }
}

/// Turns the event that ended a boot into its outcome, waiting briefly for the guest to
/// finish its own shutdown after the marker.
func finish(
    _ event: SerialConsole.Event, process: VMMProcess, console: SerialConsole, vmm: String
) -> BootOutcome {
    switch event {
    case .marker(let seconds):
        // The verify-only init reboots right after the marker; its last lines are kept.
        process.waitForExit(seconds: 2)
        return BootOutcome(
            reachedMarker: true, vmm: vmm, secondsToMarker: seconds, serialLog: console.text,
            failure: nil)
    default:
        // A panicking guest prints its last lines just before the VM ends.
        process.waitForExit(seconds: event == .panic ? 3 : 0.2)
        let log = console.text
        let cause = BootDiagnosis.cause(of: event, log: log, vmmErrors: process.errorLines())
        return BootOutcome(
            reachedMarker: false, vmm: vmm, secondsToMarker: nil, serialLog: log, failure: cause)
    }
}

/// Whether a KVM guest has failed in this process, so later boots go straight to TCG
/// instead of losing seconds to the same failure (about 8 s on a nested host).
final class KVMHealth: @unchecked Sendable {
    /// The record shared by every driver in the process.
    static let shared = KVMHealth()

    // Guards `failed`; it is the only state, so the class is safe to share.
    private let lock = NSLock()
    private var failed = false

    /// Whether a KVM guest has failed.
    var hasFailed: Bool { lock.withLock { failed } }

    /// Records that a KVM guest failed.
    func recordFailure() { lock.withLock { failed = true } }
}
