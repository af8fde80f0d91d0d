import Foundation
import KFCCore

/// Finds a recipe file from what a user typed: a path, or a name looked up in recipe folders.
public enum RecipeLocator {
    /// The folders searched for `NAME.yaml`, in order: `KFC_RECIPES` (colon-separated),
    /// `./recipes`, `/etc/kfc/recipes`, `/usr/local/share/kfc/recipes`.
    public static func searchPath(environment: [String: String] = ProcessInfo.processInfo
        .environment) -> [String]
    {
        let configured = environment["KFC_RECIPES"].map { $0.split(separator: ":").map(String.init) }
        let current = FileManager.default.currentDirectoryPath
        return (configured ?? []) + [
            "\(current)/recipes", "/etc/kfc/recipes", "/usr/local/share/kfc/recipes",
        ]
    }

    /// The path of the recipe `nameOrPath` names.
    ///
    /// Anything containing a slash or ending in `.yaml`/`.yml` is a path; anything else a
    /// name. A name that no folder has is an error listing the folders searched.
    public static func locate(_ nameOrPath: String, searchPath: [String] = searchPath()) throws
        -> String
    {
        let isPath =
            nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml")
            || nameOrPath.hasSuffix(".yml")
        if isPath {
            guard FileSystem.exists(nameOrPath) else {
                throw KFCError.notFound("recipe \(nameOrPath)", "no such file")
            }
            return nameOrPath
        }
        for folder in searchPath {
            for suffix in [".yaml", ".yml"] {
                let candidate = "\(folder)/\(nameOrPath)\(suffix)"
                if FileSystem.exists(candidate) { return candidate }
            }
        }
        throw KFCError.notFound(
            "recipe \(nameOrPath)",
            "not found in \(searchPath.joined(separator: ", ")); set KFC_RECIPES or give a path")
    }
}
