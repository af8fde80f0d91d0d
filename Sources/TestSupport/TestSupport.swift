import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// Paths and checks shared by the test targets.
public enum TestEnvironment {
    /// The package's top folder, found from this source file's path.
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The folder of real test inputs: `KFC_FIXTURES`, else `shared/fixtures` beside the
    /// package folder.
    public static let fixtures: String = {
        if let path = ProcessInfo.processInfo.environment["KFC_FIXTURES"] { return path }
        return URL(fileURLWithPath: packageRoot).deletingLastPathComponent()
            .appendingPathComponent("shared/fixtures").path
    }()

    /// The official Alpine 3.20.3 minirootfs tarball.
    public static var alpineTarball: String {
        "\(fixtures)/alpine-minirootfs-3.20.3-x86_64.tar.gz"
    }

    /// The sha256 of the Alpine tarball as Alpine publishes it.
    public static let alpineSHA256 =
        "d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c"

    /// The uncompressed guest kernel.
    public static var kernel: String { "\(fixtures)/vmlinux-6.1.192-microvm-x86_64" }

    /// Whether the fixture folder is present.
    public static var hasFixtures: Bool { FileSystem.exists(alpineTarball) }

    /// Whether the tests run as root.
    public static var isRoot: Bool { geteuid() == 0 }

    /// Checks whether every program in `names` is on PATH.
    public static func hasTools(_ names: String...) -> Bool {
        names.allSatisfy { Command.which($0) != nil }
    }

    /// Makes a fresh temporary folder for one test, which the caller removes.
    public static func temporaryDirectory(_ prefix: String = "kfc-test") throws -> String {
        try FileSystem.makeTemporaryDirectory(prefix: prefix)
    }
}

extension TestEnvironment {
    /// Finds the package's executable `name`, built beside the test bundle; nil when it is
    /// not built.
    public static func executable(_ name: String) -> String? {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let path = folder.appendingPathComponent(name).path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }
}
