import Foundation
import KFCCore

/// The microVM monitors kfc can boot a golden image with.
public enum VMMKind: String, Sendable, CaseIterable {
    /// Firecracker, driven through its API socket.
    case firecracker
    /// QEMU's `microvm` machine, with KVM when it works and TCG emulation otherwise.
    case qemu
}

/// One boot of a kernel and a root filesystem image, up to a marker on the serial console.
public struct BootRequest: Sendable {
    /// The uncompressed ELF kernel.
    public var kernel: String
    /// The ext4 root filesystem image, attached read-write as the first virtio-blk disk.
    public var image: String
    /// The kernel command line, without the `virtio_mmio.device=` arguments the VMM adds.
    public var commandLine: String
    /// The line the guest prints when it has booted far enough.
    public var marker: String
    /// The seconds to wait for the marker.
    public var timeout: Double
    /// The guest memory in MiB.
    public var memoryMiB: Int
    /// The number of virtual CPUs.
    public var vcpus: Int
    /// The folder for the serial log, the API socket and the VMM's stderr; the caller
    /// creates and removes it.
    public var workDirectory: String

    /// Creates a request. The default command line puts the console on ttyS0 and the root
    /// on `/dev/vda`, and sets `reboot=k panic=1` so that a reboot or panic ends the VM.
    public init(
        kernel: String, image: String, marker: String, workDirectory: String,
        commandLine: String = BootRequest.commandLine(init: "/sbin/init"),
        timeout: Double = 60, memoryMiB: Int = 128, vcpus: Int = 1
    ) {
        self.kernel = kernel
        self.image = image
        self.marker = marker
        self.workDirectory = workDirectory
        self.commandLine = commandLine
        self.timeout = timeout
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
    }

    /// Returns the usual microVM command line that runs `init` from the root disk.
    public static func commandLine(init initPath: String) -> String {
        "console=ttyS0 reboot=k panic=1 pci=off root=/dev/vda rw init=\(initPath)"
    }

    /// The path of the serial console log.
    public var serialLogPath: String { "\(workDirectory)/serial.log" }
}

/// The outcome of a boot that the VMM carried out; setup failures are thrown instead.
public struct BootOutcome: Sendable {
    /// Whether the marker appeared on the serial console.
    public var reachedMarker: Bool
    /// The VMM used: `firecracker`, `qemu-kvm` or `qemu-tcg`.
    public var vmm: String
    /// The seconds from the VMM's start to the marker, when it appeared.
    public var secondsToMarker: Double?
    /// The whole serial console output.
    public var serialLog: String
    /// The likely cause of a failure, in a sentence, or nil when the marker appeared.
    public var failure: String?

    /// Returns the last `count` non-empty lines of the serial log.
    public func lastLines(_ count: Int = 15) -> [String] {
        serialLog.split(whereSeparator: \.isNewline).suffix(count).map(String.init)
    }
}

/// A driver that boots a microVM for a `BootRequest`.
public protocol MicroVMDriver: Sendable {
    /// Boots the request and waits for its marker, its end or its timeout.
    ///
    /// Throws when the VMM cannot be started or rejects the configuration. The VMM process
    /// is always killed before this returns, and its socket removed.
    func boot(_ request: BootRequest, logger: Logger) throws -> BootOutcome
}
