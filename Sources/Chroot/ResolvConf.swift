import Foundation
import KFCCore

/// The host's resolv.conf lent to one step, and how to put the tree's own back.
struct LentResolvConf {
    /// The copy to bind-mount over the tree's file, or nil when the step has no network.
    var mountSource: String?
    /// A placeholder file created in the tree for the mount, removed afterwards.
    var placeholder: String?

    /// Removes what was added to the tree; the tree's own file was never written.
    func restore() {
        if let placeholder { unlink(placeholder) }
    }
}

extension ChrootRunner {
    /// Copies the host's resolv.conf outside the tree, so the step cannot write the host's
    /// file, and makes sure the tree has a regular file to mount it on.
    static func prepareResolvConf(root: String, workDirectory: String, step: SetupStep) throws
        -> LentResolvConf
    {
        guard step.network else { return LentResolvConf() }
        let target = "\(root)/etc/resolv.conf"
        var info = stat()
        var placeholder: String?
        if lstat(target, &info) != 0 {
            try FileSystem.writeAtomically(Data(), to: target)
            placeholder = target
        } else if info.st_mode & S_IFMT != S_IFREG {
            throw KFCError.invalid(
                "setup step '\(step.name)'", "/etc/resolv.conf in the tree is not a regular file")
        }
        let copy = "\(workDirectory)/resolv.conf"
        let hostFile = (try? FileSystem.read("/etc/resolv.conf")) ?? Data()
        try FileSystem.writeAtomically(hostFile, to: copy)
        return LentResolvConf(mountSource: copy, placeholder: placeholder)
    }
}
