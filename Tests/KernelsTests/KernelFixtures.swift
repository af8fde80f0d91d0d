import Foundation
import KFCCore
import TestSupport

/// Fixture paths and file surgery shared by the kernel tests.
enum KernelFixtures {
    static let release = "6.1.192"
    static let compressions = ["gzip", "xz", "zstd"]

    static var vmlinux: String { TestEnvironment.kernel }

    static func bzImage(_ compression: String) -> String {
        "\(TestEnvironment.fixtures)/bzImage-6.1.192-microvm-x86_64-\(compression)"
    }

    static var config: String { "\(TestEnvironment.fixtures)/config-6.1.192-microvm-x86_64" }

    /// Writes `bytes` to `name` inside `folder` and returns the path.
    static func write(_ bytes: [UInt8], _ name: String, in folder: String) throws -> String {
        let path = "\(folder)/\(name)"
        try FileSystem.writeAtomically(Data(bytes), to: path)
        return path
    }

    /// Reads `path` and returns its bytes with `replacement` written over them at `offset`.
    static func patched(_ path: String, at offset: Int, with replacement: [UInt8]) throws
        -> [UInt8]
    {
        var bytes = Array(try FileSystem.read(path))
        bytes.replaceSubrange(offset..<(offset + replacement.count), with: replacement)
        return bytes
    }

    /// Finds the offset of the first occurrence of `text` in the file at `path`.
    static func offset(of text: String, in path: String) throws -> Int? {
        let bytes = Array(try FileSystem.read(path))
        let needle = Array(text.utf8)
        guard bytes.count >= needle.count else { return nil }
        return (0...(bytes.count - needle.count)).first {
            bytes[$0] == needle[0] && Array(bytes[$0..<($0 + needle.count)]) == needle
        }
    }

    /// Writes a copy of the fixture vmlinux whose IKCONFIG start marker is overwritten, so
    /// it seems to embed no configuration; returns its path.
    static func kernelWithoutConfig(in folder: String) throws -> String {
        guard let marker = try offset(of: "IKCFG_ST", in: vmlinux) else {
            throw KFCError.notFound(vmlinux, "no IKCFG_ST marker")
        }
        let bytes = try patched(vmlinux, at: marker, with: Array("NOCFG_ST".utf8))
        return try write(bytes, "vmlinux", in: folder)
    }

    /// Runs `body` and returns the message of the error it throws, or nil when it throws none.
    static func errorMessage(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return error.asKFCError().description
        }
    }
}
