import Foundation
import KFCCore
import Recipes

#if canImport(Glibc)
    import Glibc
#endif

/// The root, live mode and namespace of a provisioning run.
public struct ProvisioningOptions: Sendable {
    /// The root folder the file-level steps write under; `/` is the running host.
    public var root: String
    /// Whether live actions run (loading NAT rules, applying sysctl, creating datasets,
    /// building images); by default only when `root` is `/`.
    public var live: Bool
    /// A network namespace in which the live network actions (`sysctl`, `nft`, `iptables`,
    /// route lookups) run, through `ip netns exec`; nil means this process's namespace.
    public var networkNamespace: String?
    /// The folder of kfc's own executables to install, overriding the config.
    public var executables: String?
    /// Extra environment variables for the `kfc-image` commands of the golden image step,
    /// such as `KFC_CACHE`.
    public var imageToolEnvironment: [String: String] = [:]

    /// Options for `root`, live only when it is `/`.
    public init(
        root: String = "/", live: Bool? = nil, networkNamespace: String? = nil,
        executables: String? = nil
    ) {
        let trimmed = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        self.root = trimmed
        self.live = live ?? (trimmed == "/")
        self.networkNamespace = networkNamespace
        self.executables = executables
    }
}

/// The host config, options and logger that every step reads.
public struct ProvisioningContext: Sendable {
    /// The intended state.
    public let config: HostConfig
    /// The root, live mode and namespace of the run.
    public let options: ProvisioningOptions
    /// The logger that steps write to.
    public let logger: Logger

    /// Creates a context.
    public init(config: HostConfig, options: ProvisioningOptions, logger: Logger) {
        self.config = config
        self.options = options
        self.logger = logger
    }

    /// Whether live actions run.
    public var live: Bool { options.live }

    /// The reason given for a live part that is left out.
    var liveSkipReason: String {
        "not live under --root \(options.root)"
    }

    /// `absolute` (a path on the provisioned host) as a path under the root.
    public func path(_ absolute: String) -> String {
        options.root == "/" ? absolute : options.root + absolute
    }

    /// `absolute` under the root, after checking that no folder on the way there is a
    /// symbolic link, so writes under another root never land on this host.
    public func checkedPath(_ absolute: String) throws -> String {
        let full = path(absolute)
        guard options.root != "/" else { return full }
        var current = options.root
        for component in absolute.split(separator: "/").dropLast() {
            current += "/\(component)"
            var info = stat()
            guard lstat(current, &info) == 0 else { break }
            if info.st_mode & S_IFMT == S_IFLNK {
                throw KFCError.invalid(
                    current, "is a symbolic link, which provisioning under --root does not follow")
            }
        }
        return full
    }

    /// Makes a command that runs inside the network namespace when one is set.
    public func networkCommand(_ executable: String, _ arguments: [String]) -> Command {
        guard let namespace = options.networkNamespace else {
            return Command(executable, arguments)
        }
        return Command("ip", ["netns", "exec", namespace, executable] + arguments)
    }

    /// Whether `name` is an installed program.
    public func hasProgram(_ name: String) -> Bool { Command.which(name) != nil }

    /// Returns the uplink interface: the configured one, else the interface of the default
    /// route (in the network namespace when one is set).
    public func uplink() throws -> String {
        if let uplink = config.uplink { return uplink }
        let output = try networkCommand("ip", ["-j", "route", "show", "default"])
            .output(logger: logger)
        let routes = (try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [Any]
        let device = routes?.lazy.compactMap { ($0 as? [String: Any])?["dev"] as? String }.first
        guard let device else {
            throw KFCError.notFound(
                "uplink", "no default route to take the interface from; set uplink in the config")
        }
        return device
    }
}
