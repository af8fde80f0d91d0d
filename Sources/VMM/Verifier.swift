import Foundation
import KFCCore
import Kernels

/// The settings of a verification boot.
public struct VerifyOptions: Sendable {
    /// The VMM to boot with.
    public var vmm: VMMKind
    /// The QEMU accelerators to try in order; nil tries KVM, when /dev/kvm opens, then TCG.
    public var accelerators: [QEMUDriver.Accelerator]?
    /// The seconds to wait for the marker.
    public var timeout: Double
    /// The guest memory in MiB.
    public var memoryMiB: Int
    /// The image's own init, checked before the boot and tested for in the guest.
    public var initPath: String
    /// The folder for the throwaway copy of the image. Unless its filesystem shares blocks
    /// (reflinks), the copy takes as much space as the image's data.
    public var scratchFolder: String

    /// Creates options; by default QEMU, 60 s, 128 MiB, `/sbin/init`, and the temporary folder.
    public init(
        vmm: VMMKind = .qemu, timeout: Double = 60, memoryMiB: Int = 128,
        initPath: String = "/sbin/init", scratchFolder: String = NSTemporaryDirectory()
    ) {
        self.vmm = vmm
        self.accelerators = nil
        self.timeout = timeout
        self.memoryMiB = memoryMiB
        self.initPath = initPath
        self.scratchFolder = scratchFolder
    }
}

/// Boot-tests a golden image without changing it.
///
/// The image is copied (`cp --reflink=auto --sparse=always`) and a verify-only init is
/// written into the copy with `debugfs -w`. That init checks that the image's own init is
/// executable, prints a marker on the serial console and reboots, which ends the VM.
public enum Verifier {
    /// The folder inside the image that receives the verify-only init.
    static let injectedInit = "/kfc-verify-init"

    /// Checks `kernel` and `image`, boots a throwaway copy of the image and returns the outcome.
    ///
    /// Throws before booting when the kernel or image has a problem, naming it, and when the
    /// VMM cannot be started. A guest that does not reach the marker is not an error: the
    /// returned outcome's `failure` names the likely cause. The copy and every temporary file are removed.
    public static func verify(
        image: String, kernel: String, options: VerifyOptions = VerifyOptions(),
        logger: Logger = .silent
    ) throws -> BootOutcome {
        let unsafe = options.initPath.contains { $0 == "'" || $0.isWhitespace }
        guard options.initPath.hasPrefix("/"), !unsafe else {
            throw KFCError.usage(
                "init path '\(options.initPath)' must be absolute, without quotes or spaces")
        }
        let kernelReport = try KernelCheck.check(path: kernel, memoryMiB: options.memoryMiB)
        guard kernelReport.isBootable else {
            throw KFCError.invalid(kernel, kernelReport.problems.joined(separator: "; "))
        }
        let imageReport = try ImageCheck.check(
            image: image, kernel: kernelReport, initPath: options.initPath,
            requiredPaths: ["/bin/sh"])
        // NOTE: images without /bin/sh cannot be verified, because the verify-only init is
        // a shell script.
        guard imageReport.problems.isEmpty else {
            throw KFCError.invalid(image, imageReport.problems.joined(separator: "; "))
        }

        let folder = try FileSystem.makeTemporaryDirectory(
            in: options.scratchFolder, prefix: "kfc-verify")
        defer { try? FileSystem.remove(folder) }
        let copy = "\(folder)/rootfs.ext4"
        try Command("cp", ["--reflink=auto", "--sparse=always", image, copy]).run(logger: logger)

        let marker = "kfc-verify-\(UUID().uuidString.lowercased())-ok"
        try inject(script(marker: marker, initPath: options.initPath), into: copy, folder: folder,
            logger: logger)
        let request = BootRequest(
            kernel: kernel, image: copy, marker: marker, workDirectory: folder,
            commandLine: BootRequest.commandLine(init: injectedInit), timeout: options.timeout,
            memoryMiB: options.memoryMiB)
        let outcome = try driver(options).boot(request, logger: logger)
        logger.info(
            outcome.reachedMarker ? "verification passed" : "verification failed",
            [("image", image), ("vmm", outcome.vmm), ("cause", outcome.failure ?? "none")])
        return outcome
    }

    /// Returns the driver that `options` select.
    public static func driver(_ options: VerifyOptions) -> any MicroVMDriver {
        switch options.vmm {
        case .qemu: QEMUDriver(accelerators: options.accelerators)
        case .firecracker: FirecrackerDriver()
        }
    }

    /// The verify-only init: a shell script, so the image must contain /bin/sh.
    static func script(marker: String, initPath: String) -> String {
        """
        #!/bin/sh
        # Verify-only init written by kfc-image verify into a throwaway copy of the image.
        if [ -x '\(initPath)' ]; then
            echo '\(marker)'
        else
            echo 'kfc-verify: \(initPath) is not executable in the guest'
        fi
        reboot -f || echo b > /proc/sysrq-trigger
        """
    }

    /// Writes `script` into the image copy as an executable `injectedInit`.
    private static func inject(_ script: String, into copy: String, folder: String,
        logger: Logger) throws
    {
        let scriptPath = "\(folder)/verify-init"
        let requests = "\(folder)/debugfs-requests"
        try FileSystem.writeAtomically(Data((script + "\n").utf8), to: scriptPath)
        try FileSystem.writeAtomically(
            Data(
                "write \"\(scriptPath)\" \(injectedInit)\nsif \(injectedInit) mode 0100755\n"
                    .utf8),
            to: requests)
        let result = try Command("debugfs", ["-w", "-f", requests, copy]).run(logger: logger)
        let errors = Command.tail(result.errorOutput).filter { !$0.hasPrefix("debugfs ") }
        guard errors.isEmpty else {
            throw KFCError.failed("write the verify-only init into \(copy)", errors[0],
                details: Array(errors.dropFirst()))
        }
    }
}
