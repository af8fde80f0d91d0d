import Foundation

internal import CCrypto

/// A digest algorithm that recipes and manifests name.
public enum DigestAlgorithm: String, Sendable, Codable, CaseIterable {
    case sha256
    case sha512

    /// The length of a hex digest of this algorithm.
    public var hexLength: Int { self == .sha256 ? 64 : 128 }
}

/// An expected or computed digest: algorithm plus lowercase hex.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The algorithm.
    public var algorithm: DigestAlgorithm
    /// The digest in lowercase hex.
    public var hex: String

    /// Creates a digest; `hex` is lowercased. Returns nil when it is not valid hex of the
    /// algorithm's length.
    public init?(_ algorithm: DigestAlgorithm, hex: String) {
        let lower = hex.lowercased()
        guard lower.count == algorithm.hexLength, lower.allSatisfy(\.isHexDigit) else {
            return nil
        }
        self.algorithm = algorithm
        self.hex = lower
    }

    /// `sha256:HEX`, the form used in cache paths and messages.
    public var description: String { "\(algorithm.rawValue):\(hex)" }

    /// Computes the digest of `data`.
    public static func of(_ data: Data, _ algorithm: DigestAlgorithm = .sha256) -> Digest {
        let hasher = Hasher(algorithm)
        hasher.update(data)
        return hasher.finish()
    }

    /// Computes the digest of the file at `path`, read in 1 MiB pieces.
    public static func ofFile(
        _ path: String, _ algorithm: DigestAlgorithm = .sha256, progress: ProgressMeter? = nil
    ) throws -> Digest {
        let fd = try SystemCall.retrying("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        let hasher = Hasher(algorithm)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var done: Int64 = 0
        while true {
            let count = try buffer.withUnsafeMutableBytes { raw in
                try SystemCall.retrying("read \(path)") { read(fd, raw.baseAddress, raw.count) }
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            done += Int64(count)
            progress?.update(done)
        }
        progress?.finish(done)
        return hasher.finish()
    }

    /// A streaming digest computation over OpenSSL's EVP interface.
    public final class Hasher {
        private let context: OpaquePointer
        private let algorithm: DigestAlgorithm

        /// Starts a digest of `algorithm`.
        public init(_ algorithm: DigestAlgorithm) {
            self.algorithm = algorithm
            // EVP_MD_CTX_new fails only when memory is exhausted, which Swift treats as fatal
            // elsewhere too.
            guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed") }
            self.context = context
            let md = algorithm == .sha256 ? EVP_sha256() : EVP_sha512()
            EVP_DigestInit_ex(context, md, nil)
        }

        deinit { EVP_MD_CTX_free(context) }

        /// Adds `bytes` to the digest.
        public func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            EVP_DigestUpdate(context, base, bytes.count)
        }

        /// Adds `data` to the digest.
        public func update(_ data: Data) {
            data.withUnsafeBytes { update($0) }
        }

        /// Returns the digest; the hasher must not be used afterwards.
        public func finish() -> Digest {
            var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            EVP_DigestFinal_ex(context, &output, &length)
            let hex = output.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
            // The hex comes from OpenSSL for this algorithm, so its length and digits are right.
            return Digest(algorithm, hex: hex)!
        }
    }
}
