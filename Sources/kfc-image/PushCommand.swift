import Foundation
import KFCCore
import Stores

#if canImport(Glibc)
    import Glibc
#endif

/// The part of the remote's `list --json` output that push reads.
private struct RemoteListing: Decodable {
    struct Entry: Decodable { var version: String }
    var versions: [Entry]
}

/// `kfc-image push`: sends a version to another host's store over ssh.
let pushCommand = Subcommand(
    "push", summary: "send a version to a host over ssh (incremental when it has an older one)",
    usage: """
        Usage: kfc-image push NAME@VERSION ssh://[USER@]HOST[:PORT] [OPTIONS]

        Runs 'kfc-image send' here into 'ssh HOST kfc-image receive'. Unless --from is
        given, asks the host for its versions first and sends only the changes since the
        newest version both have.

        Options:
          --from OLDER          the base version of the incremental stream
          --full                send the whole version even when the host has an older one
          --remote-store SPEC   the store on the host (default: the host's default)
        \(storeOptionUsage)
        """,
    run: { arguments, logger in
        var base = try arguments.option("--from")
        let full = arguments.flag("--full")
        let remoteStore = try arguments.option("--remote-store")
        let spec = try arguments.option("--store")
        let (name, version) = try versionReference(
            try arguments.positional("NAME@VERSION"), command: arguments.command)
        let plan = try PushPlan(url: try arguments.positional("ssh://HOST"),
            remoteStore: remoteStore)
        try arguments.finish()

        let store = try StoreSpec.open(spec, logger: logger)
        // An unknown version is reported before the host is contacted.
        _ = try store.manifest(VersionReference(name: name, selector: version))
        if base == nil, !full {
            let local = try store.versions(name: name).filter { $0.version != version }
            base = PushPlan.base(local: local, remote: try remoteVersions(plan, name, logger))
        }
        try push(store, name: name, version: version, base: base, plan: plan, logger: logger)
        StandardOutput.line("pushed \(name)@\(version) to \(plan.destination)"
            + (base.map { " (incremental from \($0))" } ?? ""))
        return 0
    })

/// The versions of `name` the remote store has; none when it has no such image.
private func remoteVersions(_ plan: PushPlan, _ name: String, _ logger: Logger) throws
    -> [String]
{
    let result = try plan.listCommand(name: name).result(logger: logger)
    guard result.status == 0,
        let listing = try? JSONDecoder().decode(RemoteListing.self, from: result.output)
    else {
        logger.info("the host lists no versions; sending a full stream",
            [("host", plan.destination), ("error", Command.tail(result.errorOutput).last ?? "")])
        return []
    }
    return listing.versions.map(\.version)
}

/// Streams `send` into the remote `receive` through a pipe, sending on a second thread.
private func push(
    _ store: any Store, name: String, version: String, base: String?, plan: PushPlan,
    logger: Logger
) throws {
    let pipe = Pipe()
    let failure = SendFailure()
    let sender = Thread {
        do {
            try store.send(name: name, version: version, base: base,
                to: pipe.fileHandleForWriting)
        } catch {
            failure.error = error
        }
        try? pipe.fileHandleForWriting.close()
        failure.finish()
    }
    // A remote that exits early must make the sender's write fail, not kill this process.
    signal(SIGPIPE, SIG_IGN)
    sender.start()
    let result = try plan.receiveCommand().result(
        input: pipe.fileHandleForReading, logger: logger)
    try? pipe.fileHandleForReading.close()
    failure.wait()
    // A remote that failed is the cause, and the sender's broken pipe only its echo, so the
    // remote's own message comes first.
    guard result.status == 0 else {
        let lines = Command.tail(result.errorOutput)
        throw KFCError.failed(
            "push \(name)@\(version) to \(plan.destination)",
            "the remote receive exited with status \(result.status)"
                + (lines.last.map { ": \($0)" } ?? ""),
            details: lines.dropLast())
    }
    if let error = failure.error { throw error }
}

/// The error of the sending thread, read after it finished.
private final class SendFailure: @unchecked Sendable {
    // Written once by the sender before it signals `done`, read after `wait()`.
    var error: Error?
    private let done = DispatchSemaphore(value: 0)
    func finish() { done.signal() }
    func wait() { done.wait() }
}
