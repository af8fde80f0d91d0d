import Foundation

/// An error meant for the user: what was being done, to what, and why it failed.
///
/// `description` is the one line printed after `error: `, for example
/// `unpack alpine.tar.gz: entry '../etc/x' leaves the root`.
public struct KFCError: Error, CustomStringConvertible, Sendable {
    /// The broad class of the failure, which decides the exit code.
    public enum Kind: Sendable {
        /// The command line was wrong; exit code 64.
        case usage
        /// A file or value given by the user is invalid.
        case invalidInput
        /// Something named by the user does not exist.
        case notFound
        /// An operation on the system failed.
        case failed
        /// A state the code assumed impossible; reported as a bug.
        case bug
    }

    /// The broad class of the failure.
    public var kind: Kind
    /// The operation and its subject, such as `unpack FILE` or `recipe.yaml:3:5`.
    public var context: String
    /// The cause of the failure, as a sentence fragment without a trailing period.
    public var reason: String
    /// Extra lines shown after the error line, such as the tail of a command's output.
    public var details: [String]

    /// Creates an error of `kind` for `context`, failing because of `reason`.
    public init(_ kind: Kind, _ context: String, _ reason: String, details: [String] = []) {
        self.kind = kind
        self.context = context
        self.reason = reason
        self.details = details
    }

    public var description: String {
        context.isEmpty ? reason : "\(context): \(reason)"
    }

    /// Makes the error for a wrong command line.
    public static func usage(_ reason: String) -> KFCError {
        KFCError(.usage, "", reason)
    }

    /// Makes the error for an invalid input named by `context`.
    public static func invalid(_ context: String, _ reason: String) -> KFCError {
        KFCError(.invalidInput, context, reason)
    }

    /// A missing file, version or other named thing.
    public static func notFound(_ context: String, _ reason: String) -> KFCError {
        KFCError(.notFound, context, reason)
    }

    /// Makes the error for a failed operation.
    public static func failed(_ context: String, _ reason: String, details: [String] = [])
        -> KFCError
    {
        KFCError(.failed, context, reason, details: details)
    }

    /// Returns this error with `outer` put in front of its context, as in `build alpine: …`.
    public func within(_ outer: String) -> KFCError {
        var copy = self
        copy.context = context.isEmpty ? outer : "\(outer): \(context)"
        return copy
    }
}

extension Error {
    /// This error as a `KFCError`: itself when it is one, else a failure of `context`.
    public func asKFCError(_ context: String = "") -> KFCError {
        if let error = self as? KFCError { return error }
        return KFCError(.failed, context, String(describing: self))
    }
}

/// Runs `body`, putting `context` in front of any `KFCError` it throws.
public func withContext<T>(_ context: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as KFCError {
        throw error.within(context)
    } catch {
        throw KFCError(.failed, context, String(describing: error))
    }
}
