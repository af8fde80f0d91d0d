import Foundation
import KFCCore

/// The ssh command lines `kfc-image push` runs: one to list the remote's versions, one to
/// feed a send stream to the remote's own `kfc-image receive`.
public struct PushPlan: Sendable, Equatable {
    /// The ssh destination, `[USER@]HOST`.
    public var destination: String
    /// The ssh port, when the URL names one.
    public var port: Int?
    /// The remote store spec passed as `--store`, or nil for the remote's default.
    public var remoteStore: String?

    /// Parses `ssh://[USER@]HOST[:PORT]`.
    public init(url: String, remoteStore: String? = nil) throws {
        guard url.hasPrefix("ssh://") else {
            throw KFCError.usage("invalid push target '\(url)': expected ssh://[USER@]HOST[:PORT]")
        }
        var rest = String(url.dropFirst("ssh://".count))
        while rest.hasSuffix("/") { rest.removeLast() }
        if let colon = rest.lastIndex(of: ":"), !rest.contains("[") {
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number)
            else {
                throw KFCError.usage("invalid push target '\(url)': the port is not a number")
            }
            port = number
            rest = String(rest[..<colon])
        }
        guard !rest.isEmpty, !rest.contains("/"), !rest.hasPrefix("-") else {
            throw KFCError.usage("invalid push target '\(url)': expected ssh://[USER@]HOST[:PORT]")
        }
        destination = rest
        self.remoteStore = remoteStore
    }

    /// `ssh … kfc-image list NAME --json`, whose output names the versions the remote has.
    public func listCommand(name: String) -> Command {
        ssh(["kfc-image", "list", name, "--json"])
    }

    /// `ssh … kfc-image receive`, which reads the stream from its stdin.
    public func receiveCommand() -> Command {
        ssh(["kfc-image", "receive"])
    }

    /// The newest local version that the remote has too, which an incremental stream can
    /// start from; nil when they share none.
    public static func base(local: [VersionManifest], remote: [String]) -> String? {
        let shared = Set(remote)
        return local.last { shared.contains($0.version) }?.version
    }

    private func ssh(_ remote: [String]) -> Command {
        var arguments = ["-o", "BatchMode=yes"]
        if let port { arguments += ["-p", "\(port)"] }
        let store = remoteStore.map { ["--store", $0] } ?? []
        // ssh hands the remote command to the remote user's shell, so each word is quoted.
        let words = (remote + store).map(PushPlan.quote).joined(separator: " ")
        arguments += ["--", destination, words]
        return Command("ssh", arguments)
    }

    /// `word` in single quotes for a POSIX shell.
    static func quote(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
