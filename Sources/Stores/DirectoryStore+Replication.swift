import Foundation
import KFCCore

extension DirectoryStore {
    public func send(name: String, version: String, base: String?, to output: FileHandle)
        throws
    {
        throw KFCError.failed("send \(name)@\(version)", "not built yet")
    }

    public func receive(from input: FileHandle) throws -> VersionManifest {
        throw KFCError.failed("receive", "not built yet")
    }
}
