import Foundation
import KFCCore

internal import CCurl

#if canImport(Glibc)
    import Glibc
#endif

/// Downloads one URL (http, https or file) into a file through libcurl.
enum Download {
    /// libcurl's global state is set up once per process, before any handle exists.
    private static let globalSetup: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Writes the body of `url` to `destination` and returns its digest of `algorithm`.
    ///
    /// HTTP statuses of 400 and above are errors. Redirects are followed.
    static func fetch(
        _ url: String, to destination: String, algorithm: DigestAlgorithm, logger: Logger
    ) throws -> Digest {
        _ = globalSetup
        guard let handle = curl_easy_init() else {
            throw KFCError.failed("download \(url)", "could not create a libcurl handle")
        }
        defer { curl_easy_cleanup(handle) }
        let fd = try SystemCall.retrying("create \(destination)") {
            open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        defer { close(fd) }
        let sink = Sink(fd: fd, algorithm: algorithm, progress: ProgressMeter(
            "download \(URL(string: url)?.lastPathComponent ?? url)", total: nil,
            logger: logger))
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code = try errorBuffer.withUnsafeMutableBufferPointer { buffer in
            // `sink` and `buffer` outlive curl_easy_perform, the only call that uses them.
            try configure(handle, url: url, sink: sink, errorBuffer: buffer.baseAddress)
            return withExtendedLifetime(sink) { curl_easy_perform(handle) }
        }
        sink.progress.finish(sink.written)
        if let failure = sink.failure { throw failure.within("download \(url)") }
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw KFCError.failed("download \(url)", text)
        }
        var status = 0
        kfc_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        if status >= 400 {
            throw KFCError.failed("download \(url)", "the server returned HTTP \(status)")
        }
        try SystemCall.retrying("fsync \(destination)") { fsync(fd) }
        return sink.hasher.finish()
    }

    private static func configure(
        _ handle: UnsafeMutableRawPointer, url: String, sink: Sink,
        errorBuffer: UnsafeMutablePointer<CChar>?
    ) throws {
        let context = Unmanaged.passUnretained(sink).toOpaque()
        let codes = [
            kfc_curl_setopt_string(handle, CURLOPT_URL, url),
            kfc_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1),
            kfc_curl_setopt_long(handle, CURLOPT_FAILONERROR, 0),
            kfc_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, 30),
            kfc_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1),
            kfc_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, 60),
            kfc_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0),
            kfc_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer),
            kfc_curl_setopt_write(handle, writeBody),
            kfc_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context),
            kfc_curl_setopt_progress(handle, reportProgress),
            kfc_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context),
        ]
        if let bad = codes.first(where: { $0 != CURLE_OK }) {
            throw KFCError.failed(
                "download \(url)", String(cString: curl_easy_strerror(bad)))
        }
    }
}

/// The destination of libcurl's callbacks: the file, the digest and the progress meter.
private final class Sink {
    let fd: Int32
    let hasher: Digest.Hasher
    let progress: ProgressMeter
    var written: Int64 = 0
    var failure: KFCError?

    init(fd: Int32, algorithm: DigestAlgorithm, progress: ProgressMeter) {
        self.fd = fd
        self.hasher = Digest.Hasher(algorithm)
        self.progress = progress
    }

    /// Writes `bytes` whole; returns false after recording the error.
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        hasher.update(bytes)
        var offset = 0
        while offset < bytes.count {
            let count = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                failure = SystemCall.error("write the download", errno: errno)
                return false
            }
            offset += count
        }
        written += Int64(bytes.count)
        return true
    }
}

/// libcurl's write callback; returning less than the given size aborts the transfer.
private func writeBody(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let data, let context else { return 0 }
    let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    return sink.write(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

/// libcurl's progress callback; it draws the bar once the total is known.
private func reportProgress(
    _ context: UnsafeMutableRawPointer?, _ total: curl_off_t, _ done: curl_off_t,
    _ uploadTotal: curl_off_t, _ uploaded: curl_off_t
) -> Int32 {
    guard let context else { return 0 }
    let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
    sink.progress.update(Int64(done))
    return 0
}
