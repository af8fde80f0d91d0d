import Foundation
import KFCCore

/// Checks and orderings of image names, version strings and channel names.
enum Names {
    /// Rejects `value` unless it is a safe single path component and dataset name part:
    /// letters, digits, `.`, `_`, `-` and `+`, starting with a letter or digit.
    static func validate(_ value: String, as what: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+")
        guard let first = value.first, first.isLetter || first.isNumber,
            value.allSatisfy({ allowed.contains($0) }), value.count <= 128
        else {
            throw KFCError.invalid(
                "\(what) '\(value)'",
                "invalid: use letters, digits, '.', '_', '-' or '+', starting with a letter "
                    + "or digit")
        }
    }

    /// Rejects a channel name unless it is lowercase letters, digits, `.`, `_` and `-`,
    /// starting with a letter or digit, because ZFS stores keep channels in user
    /// properties, whose names allow no more.
    static func validateChannel(_ value: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        guard let first = value.first, first.isLetter || first.isNumber,
            value.allSatisfy({ allowed.contains($0) }), value.count <= 64
        else {
            throw KFCError.invalid(
                "channel name '\(value)'",
                "invalid: use lowercase letters, digits, '.', '_' or '-', starting with a "
                    + "letter or digit")
        }
    }

    /// The N of `PREFIX-N`, or nil when `version` has another form.
    static func sequence(of version: String, prefix: String) -> Int? {
        guard version.hasPrefix(prefix + "-") else { return nil }
        let digits = version.dropFirst(prefix.count + 1)
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }

    /// The first free `PREFIX-N` given the versions in use, N counting from 1.
    static func nextVersion(prefix: String, taken: [String]) -> String {
        let highest = taken.compactMap { sequence(of: $0, prefix: prefix) }.max() ?? 0
        return "\(prefix)-\(highest + 1)"
    }

    /// Whether version `a` sorts before `b`: by N for two `PREFIX-N` of one prefix, else by
    /// build date, then by the numbers in the version strings.
    static func isOlder(_ a: VersionManifest, _ b: VersionManifest) -> Bool {
        if let dash = a.version.lastIndex(of: "-") {
            let prefix = String(a.version[..<dash])
            if let first = sequence(of: a.version, prefix: prefix),
                let second = sequence(of: b.version, prefix: prefix)
            {
                return first < second
            }
        }
        if a.created != b.created { return a.created < b.created }
        return a.version.compare(b.version, options: .numeric) == .orderedAscending
    }
}

extension VersionManifest {
    /// This manifest with every path made relative to `folder` (paths outside it are kept).
    func relative(to folder: String) -> VersionManifest {
        var copy = self
        let strip: (String) -> String = { path in
            if path == folder { return "." }
            guard path.hasPrefix(folder + "/") else { return path }
            return String(path.dropFirst(folder.count + 1))
        }
        copy.tree = strip(tree)
        copy.image.path = strip(image.path)
        copy.kernel?.path = strip(kernel?.path ?? "")
        return copy
    }

    /// This manifest with every relative path resolved against `folder`.
    func absolute(in folder: String) -> VersionManifest {
        var copy = self
        let resolve: (String) -> String = { path in
            if path.hasPrefix("/") { return path }
            return path == "." ? folder : "\(folder)/\(path)"
        }
        copy.tree = resolve(tree)
        copy.image.path = resolve(image.path)
        copy.kernel?.path = resolve(kernel?.path ?? "")
        return copy
    }
}
