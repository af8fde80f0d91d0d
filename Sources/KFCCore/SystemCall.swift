import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The one gate for libc calls that report failure through `errno`.
public enum SystemCall {
    /// Runs `call` until it does not fail with EINTR; throws when it returns -1.
    ///
    /// `what` names the operation and its subject, as in `open /srv/x`, and becomes the
    /// error's context; the error's reason is the text of `errno`.
    @discardableResult
    public static func retrying<T: BinaryInteger>(_ what: String, _ call: () -> T) throws -> T {
        while true {
            let result = call()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            throw error(what, errno: code)
        }
    }

    /// The error for a failed call named `what` with `code` as its errno.
    public static func error(_ what: String, errno code: Int32) -> KFCError {
        let text = String(cString: strerror(code))
        let kind: KFCError.Kind = code == ENOENT ? .notFound : .failed
        var failure = KFCError(kind, what, text)
        if code == ENOSPC { failure.reason = "no space left on the device" }
        return failure
    }
}
