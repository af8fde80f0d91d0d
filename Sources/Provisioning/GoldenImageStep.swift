import Foundation
import KFCCore
import Recipes

/// Step 8: a golden image of the configured recipe in the store, on the stable channel.
///
/// It runs the installed `kfc-image` (from the executables step): `show NAME` to find the
/// newest version, `build RECIPE` when there is none, and `promote NAME@VERSION stable`.
public struct GoldenImageStep: ProvisioningStep {
    public let name = "golden-image"
    public let summary = "the store holds the recipe's golden image on the stable channel"

    /// The channel the image is promoted to.
    public static let channel = "stable"

    /// A step for the configured recipe and store.
    public init() {}

    public func inspect(_ context: ProvisioningContext) throws -> StepReport {
        var report = StepReport()
        guard context.live else {
            report.skipped.append("building a golden image: \(context.liveSkipReason)")
            return report
        }

        let recipe: String
        do {
            recipe = try RecipeLocator.locate(context.config.recipe)
        } catch let error as KFCError {
            report.problems.append("\(error.description) (set recipe in the host config)")
            return report
        }
        let image = try Recipe.load(recipe).name
        let tool = ImageTool(context: context, recipe: recipe)
        guard FileSystem.exists(tool.path) else {
            // On a fresh host the executables step installs kfc-image earlier in the same
            // apply, so plan shows the build as pending rather than blocked.
            let path = tool.path
            let summary =
                "build golden image \(image) from \(recipe) and promote it to stable, "
                + "once the executables step has installed \(path)"
            report.changes.append(
                Change(summary) {
                    throw KFCError.notFound(path, "not installed; run the executables step first")
                })
            return report
        }
        return try inspectStore(image: image, tool: tool)
    }

    /// Finds the stable version, else the newest to promote, else plans a build.
    func inspectStore(image: String, tool: ImageTool) throws -> StepReport {
        var report = StepReport()
        if let stable = try tool.version(of: "\(image)@\(GoldenImageStep.channel)") {
            report.findings.append("\(image)@\(GoldenImageStep.channel) is version \(stable)")
            return report
        }
        if let newest = try tool.version(of: image) {
            report.changes.append(
                Change("promote \(image)@\(newest) to the stable channel") {
                    try tool.promote(image: image, version: newest)
                })
            return report
        }

        report.changes.append(
            Change("build golden image \(image) from \(tool.recipe)") {
                try tool.build()
            })
        report.changes.append(
            Change("promote the new \(image) version to the stable channel") {
                guard let built = try tool.version(of: image) else {
                    throw KFCError.failed(
                        "promote \(image)", "the build left no version in the store")
                }
                try tool.promote(image: image, version: built)
            })
        return report
    }
}

/// The installed `kfc-image` command, run against the configured store.
struct ImageTool {
    let context: ProvisioningContext
    /// The recipe file to build.
    let recipe: String

    /// The installed executable.
    var path: String { context.path("/usr/local/bin/kfc-image") }

    var storeArguments: [String] { ["--store", context.config.store] }

    /// A `kfc-image` command with the configured store and the extra environment.
    func command(_ arguments: [String]) -> Command {
        var command = Command(path, arguments + storeArguments)
        command.environment = context.options.imageToolEnvironment
        return command
    }

    /// The version `reference` (`NAME` for the newest, or `NAME@CHANNEL`) selects, or nil
    /// when `kfc-image show` finds none.
    func version(of reference: String) throws -> String? {
        let command = command(["show", reference, "--json"])
        let result = try command.result(logger: context.logger)
        guard result.status == 0 else {
            context.logger.debug(
                "no version found",
                [("reference", reference), ("output", Command.tail(result.errorOutput).joined())])
            return nil
        }
        let object = try? JSONSerialization.jsonObject(with: result.output)
        guard let version = (object as? [String: Any])?["version"] as? String else {
            throw KFCError.failed(command.commandLine, "printed no manifest with a version")
        }
        return version
    }

    /// Builds the recipe into the store, with the darksite when it exists.
    func build() throws {
        let darksite = context.config.darksite
        var arguments = ["build", recipe]
        if FileSystem.isDirectory(darksite) { arguments += ["--darksite", darksite] }
        context.logger.info("building golden image", [("recipe", recipe)])
        try command(arguments).run(logger: context.logger)
    }

    /// Points the stable channel at `image@version`.
    func promote(image: String, version: String) throws {
        try command(["promote", "\(image)@\(version)", GoldenImageStep.channel])
            .run(logger: context.logger)
    }
}
