import Foundation
import KFCCore
import Kernels

/// The findings of `ImageCheck` on a root filesystem image before a boot.
public struct ImageReport: Sendable {
    /// The image file.
    public var image: String
    /// The init path the kernel will run, such as `/sbin/init`.
    public var initPath: String
    /// The file the init path leads to after symlinks inside the image, when it exists.
    public var resolvedInit: String?
    /// The program interpreter of the init (PT_INTERP or `#!`), when it has one.
    public var interpreter: String?
    /// The faults that would stop the guest from booting.
    public var problems: [String]
}

/// Checks an ext4 image before a boot: the superblock magic, features the kernel can mount,
/// and an init that exists inside the image, with its interpreter.
///
/// Paths are resolved inside the image, with absolute symlinks taken from the image's root,
/// never from the host's.
public enum ImageCheck {
    /// Checks `image` for a boot of `kernel` that runs `initPath`; `requiredPaths` must
    /// also exist (a verification needs `/bin/sh`, for instance).
    ///
    /// Throws when the file is not an ext2/3/4 image or cannot be read; everything else is
    /// reported in the returned report's `problems`.
    public static func check(
        image: String, kernel: KernelReport?, initPath: String = "/sbin/init",
        requiredPaths: [String] = []
    ) throws -> ImageReport {
        let superblock = try Ext4Superblock(path: image)
        var report = ImageReport(
            image: image, initPath: initPath, resolvedInit: nil, interpreter: nil,
            problems: Ext4Feature.problems(superblock, kernel: kernel))
        let resolver = PathResolver(reader: try ImageReader(path: image))
        try checkInit(&report, resolver: resolver)
        for path in requiredPaths {
            if case .failure(let failure) = try resolver.resolve(path) {
                report.problems.append("\(path) is missing in the image: \(describe(failure))")
            }
        }
        return report
    }

    private static func checkInit(_ report: inout ImageReport, resolver: PathResolver) throws {
        let name = "init \(report.initPath)"
        switch try resolver.resolve(report.initPath) {
        case .failure(let failure):
            report.problems.append("\(name) not found in the image: \(describe(failure))")
        case .success(let found):
            report.resolvedInit = found.path
            let shown = found.links.isEmpty ? name : "\(name) (\(found.path))"
            guard found.entry.kind == .file else {
                report.problems.append("\(shown) is not a regular file")
                return
            }
            guard found.entry.mode & 0o111 != 0 else {
                let mode = String(found.entry.mode, radix: 8)
                report.problems.append("\(shown) is not executable (mode \(mode))")
                return
            }
            let contents = try resolver.reader.read(found.path)
            try checkProgram(contents, shown: shown, report: &report, resolver: resolver)
        }
    }

    /// Checks that an init program's interpreter exists and that it suits an x86_64 guest.
    private static func checkProgram(
        _ contents: Data, shown: String, report: inout ImageReport, resolver: PathResolver
    ) throws {
        let view = ByteView(Array(contents))
        if ELFFile.hasMagic(view) {
            let elf = try ELFFile(view, name: shown)
            guard elf.machine == ELFFile.x86_64, elf.is64Bit else {
                report.problems.append(
                    "\(shown) is built for \(ELFFile.machineName(elf.machine)), not x86_64")
                return
            }
            report.interpreter = elf.interpreter
        } else if view.matches(Array("#!".utf8), at: 0) {
            let line = String(decoding: contents.prefix(256), as: UTF8.self)
                .split(separator: "\n").first ?? ""
            report.interpreter = line.dropFirst(2).split(separator: " ").first.map(String.init)
        } else {
            report.problems.append("\(shown) is neither an ELF program nor a #! script")
            return
        }
        guard let interpreter = report.interpreter else { return }
        if case .failure(let failure) = try resolver.resolve(interpreter) {
            report.problems.append(
                "\(shown) needs the interpreter \(interpreter), which is not in the image: "
                    + describe(failure))
        }
    }

    private static func describe(_ failure: PathResolver.Failure) -> String {
        switch failure {
        case .missing(let path): "\(path) does not exist"
        case .notDirectory(let path): "\(path) is not a folder"
        case .tooManyLinks: "more than \(PathResolver.maxLinks) symlinks"
        }
    }
}
