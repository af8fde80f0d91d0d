import Archives
import Foundation
import KFCCore

/// The value a kernel configuration gives one option.
public enum OptionState: String, Sendable, Codable {
    /// `CONFIG_X=y`.
    case builtIn = "built-in"
    /// `CONFIG_X=m`.
    case module
    /// Not set, or set to a value other than y or m.
    case missing
}

/// A kernel `.config`: option names (without `CONFIG_`) mapped to their values.
public struct KernelConfig: Sendable {
    /// The values, such as `VIRTIO_MMIO` → `y`.
    public let values: [String: String]

    /// Parses `.config` text; comments and `# CONFIG_X is not set` lines leave X unset.
    public init(text: String) {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard line.hasPrefix("CONFIG_"), let equals = line.firstIndex(of: "=") else {
                continue
            }
            let name = line[line.index(line.startIndex, offsetBy: 7)..<equals]
            values[String(name)] = String(line[line.index(after: equals)...])
        }
        self.values = values
    }

    /// Returns the state the configuration gives `name` (without `CONFIG_`).
    public func state(of name: String) -> OptionState {
        switch values[name] {
        case "y": .builtIn
        case "m": .module
        default: .missing
        }
    }

    /// Extracts the configuration that CONFIG_IKCONFIG embeds in `kernel`; nil when it has none.
    ///
    /// The kernel stores it as gzip data between the markers `IKCFG_ST` and `IKCFG_ED`.
    static func embedded(in kernel: ByteView, name: String) throws -> KernelConfig? {
        let start = Array("IKCFG_ST".utf8)
        guard let begin = kernel.firstOffset(of: start) else { return nil }
        let dataStart = begin + start.count
        guard let end = kernel.firstOffset(of: Array("IKCFG_ED".utf8), from: dataStart) else {
            throw KFCError.invalid(name, "embedded config has a start marker but no end marker")
        }
        let compressed = Data(kernel.bytes[dataStart..<end])
        let text = try RawStream.decompress(compressed, context: "\(name): embedded config")
        return KernelConfig(text: String(decoding: text, as: UTF8.self))
    }
}

/// An option a Firecracker-style microVM needs built into its kernel, and why.
public struct RequiredOption: Sendable {
    /// The name without `CONFIG_`.
    public var name: String
    /// The failure that follows without it.
    public var reason: String

    /// The options checked by `KernelCheck`: the guest has no initrd, so none may be a module.
    public static let microVM: [RequiredOption] = [
        RequiredOption(name: "VIRTIO_MMIO", reason: "the root disk is a virtio-mmio device"),
        RequiredOption(
            name: "VIRTIO_MMIO_CMDLINE_DEVICES",
            reason: "the VMM declares its devices with virtio_mmio.device= on the command line"),
        RequiredOption(name: "VIRTIO_BLK", reason: "the root disk is a virtio block device"),
        RequiredOption(name: "VIRTIO_NET", reason: "network interfaces are virtio-net devices"),
        RequiredOption(name: "EXT4_FS", reason: "the root filesystem is ext4"),
        RequiredOption(
            name: "SERIAL_8250_CONSOLE", reason: "the console is the 8250 serial port ttyS0"),
        RequiredOption(name: "DEVTMPFS", reason: "init expects /dev to be populated"),
        RequiredOption(
            name: "SERIO_I8042", reason: "reboot=k ends the VM through the i8042 controller"),
    ]
}

/// One required option and how the kernel's configuration sets it.
public struct OptionReport: Sendable, Codable, Equatable {
    /// The name without `CONFIG_`.
    public var name: String
    /// The state the configuration gives it.
    public var state: OptionState
    /// The failure that follows without it.
    public var reason: String

    /// The problem this state causes, or nil when the option is built in.
    var problem: String? {
        switch state {
        case .builtIn: nil
        case .module:
            "CONFIG_\(name)=m must be built in (=y), because a microVM boots without an "
                + "initrd to load modules from, and \(reason)"
        case .missing: "CONFIG_\(name) is not set, but \(reason)"
        }
    }
}
