import Foundation
import KFCCore
import Stores
import VMM

/// `kfc-image verify`: boot-tests a stored version and records the result in its manifest.
let verifyCommand = Subcommand(
    "verify", summary: "boot a stored version in a microVM and record the result",
    usage: """
        Usage: kfc-image verify NAME[@VERSION|@CHANNEL] [OPTIONS]

        Checks the version's kernel and image (ext4 features, an init inside the image and
        its interpreter), boots a throwaway copy of the image with a verify-only init that
        prints a marker on the serial console, and records the result in the version's
        manifest. The golden image is never modified. Exits with 1 when the boot failed,
        showing the likely cause and the last console lines.

        Options:
          --vmm qemu|firecracker  the VMM (default: qemu, which tries KVM and falls back
                                  to TCG emulation)
          --accel kvm|tcg         the only QEMU accelerator to use (default: KVM when
                                  /dev/kvm opens, then TCG)
          --timeout SECONDS       how long to wait for the marker (default: 60)
          --memory MIB            guest memory (default: 128)
          --kernel FILE           boot this kernel instead of the version's own (the result
                                  is then printed but not recorded)
          --init PATH             the image's init, checked before booting (default:
                                  /sbin/init)
          --store SPEC            the store (default: $KFC_STORE, /etc/kfc/kfc.conf, or
                                  dir:/var/lib/kfc)
        """,
    run: { arguments, logger in
        var options = VerifyOptions()
        if let vmm = try arguments.option("--vmm") {
            guard let kind = VMMKind(rawValue: vmm) else {
                throw KFCError.usage("invalid --vmm '\(vmm)': expected qemu or firecracker")
            }
            options.vmm = kind
        }
        if let accel = try arguments.option("--accel") {
            guard let accelerator = QEMUDriver.Accelerator(rawValue: accel) else {
                throw KFCError.usage("invalid --accel '\(accel)': expected kvm or tcg")
            }
            options.accelerators = [accelerator]
        }
        if let timeout = try arguments.option("--timeout") {
            guard let seconds = Double(timeout), seconds > 0 else {
                throw KFCError.usage("invalid --timeout '\(timeout)': expected seconds")
            }
            options.timeout = seconds
        }
        options.memoryMiB = try arguments.option("--memory").map(parseMemory) ?? 128
        options.initPath = try arguments.option("--init") ?? options.initPath
        let kernelOverride = try arguments.option("--kernel")
        let spec = try arguments.option("--store")
        let reference = try VersionReference(parsing: try arguments.positional("NAME@VERSION"))
        try arguments.finish()

        let store = try StoreSpec.open(spec, logger: logger)
        let manifest = try store.manifest(reference)
        guard let kernel = kernelOverride ?? manifest.kernel?.path else {
            throw KFCError.invalid(
                manifest.reference, "the version has no kernel; give one with --kernel FILE")
        }
        // A boot of altered bytes proves nothing about the version, so they are rejected.
        try checkImageDigest(manifest)
        let record = try VerificationRun.run(
            image: manifest.image.path, kernel: kernel, options: options, logger: logger)
        if kernelOverride == nil {
            try store.recordVerification(record, name: manifest.name, version: manifest.version)
        } else {
            logger.warning(
                "result not recorded, because --kernel replaced the version's own kernel",
                [("version", manifest.reference)])
        }
        return try VerificationRun.report(record, reference: manifest.reference)
    })

/// The steps of `verify` between loading the manifest and recording the result.
enum VerificationRun {
    /// Boots and returns the record to store. A kernel or image that fails its checks is a
    /// failed verification; a VMM that cannot start is an error, and nothing is recorded.
    ///
    /// NOTE: a guest that the VMM starts but the host's KVM cannot run is recorded as a
    /// failure too, replacing an earlier record that may have passed with another VMM.
    static func run(image: String, kernel: String, options: VerifyOptions, logger: Logger)
        throws -> VersionManifest.VerificationRecord
    {
        let date = ISO8601DateFormatter().string(from: Date())
        do {
            let outcome = try Verifier.verify(
                image: image, kernel: kernel, options: options, logger: logger)
            return VersionManifest.VerificationRecord(
                passed: outcome.reachedMarker, vmm: outcome.vmm,
                secondsToMarker: outcome.secondsToMarker, serialLog: outcome.serialLog,
                date: date, reason: outcome.failure)
        } catch let error as KFCError where error.kind == .invalidInput {
            return VersionManifest.VerificationRecord(
                passed: false, vmm: options.vmm.rawValue, secondsToMarker: nil, serialLog: nil,
                date: date, reason: error.description)
        }
    }

    /// Prints a passed verification and returns 0, or throws the failure with the last
    /// console lines.
    static func report(_ record: VersionManifest.VerificationRecord, reference: String) throws
        -> Int32
    {
        guard record.passed else {
            let lines = (record.serialLog ?? "").split(whereSeparator: \.isNewline).suffix(15)
            throw KFCError.failed(
                "verify \(reference)", record.reason ?? "the boot failed",
                details: lines.map { "console: \($0)" })
        }
        let seconds = record.secondsToMarker.map { String(format: "%.1f s", $0) } ?? "?"
        StandardOutput.line("\(reference): passed with \(record.vmm), marker after \(seconds)")
        return 0
    }
}
