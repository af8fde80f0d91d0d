import Foundation
import KFCCore
import Stores

/// The inputs and options of one `kfc-image build`.
public struct BuildRequest: Sendable {
    /// The recipe file.
    public var recipePath: String
    /// An offline folder looked up by file name before any download.
    public var darksite: String?
    /// A kernel file that replaces the recipe's `kernel`.
    public var kernelOverride: String?
    /// The content-addressed cache of fetched inputs.
    public var cacheDirectory: String
    /// The time every image timestamp is set from; nil means the recipe's, else
    /// SOURCE_DATE_EPOCH, else the newest time in the source archive.
    public var epoch: Int64?
    /// The maximum run time of one setup step, in seconds.
    public var stepTimeout: Double?

    /// Creates a request for `recipePath` with the defaults.
    public init(
        recipePath: String, darksite: String? = nil, kernelOverride: String? = nil,
        cacheDirectory: String, epoch: Int64? = nil, stepTimeout: Double? = nil
    ) {
        self.recipePath = recipePath
        self.darksite = darksite
        self.kernelOverride = kernelOverride
        self.cacheDirectory = cacheDirectory
        self.epoch = epoch
        self.stepTimeout = stepTimeout
    }
}

/// The version of kfc that builds images, recorded in every manifest.
public enum BuilderVersion {
    public static let current = KFCVersion.current
    /// `kfc-image VERSION`, as manifests record it.
    public static var label: String { "kfc-image \(current)" }
}
