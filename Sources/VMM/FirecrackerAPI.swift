import Foundation
import KFCCore

internal import CCurl

/// A client for Firecracker's HTTP API on its unix socket, through libcurl's
/// CURLOPT_UNIX_SOCKET_PATH.
final class FirecrackerAPI {
    /// A response: the HTTP status and the body.
    struct Response {
        var status: Int
        var body: Data

        /// The `fault_message` Firecracker puts in an error body, else the body as text.
        var faultMessage: String {
            if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
                let message = object["fault_message"] as? String
            {
                return message
            }
            return String(decoding: body, as: UTF8.self)
        }
    }

    /// The collected response body, reached from libcurl's write callback.
    private final class Sink {
        var data = Data()
    }

    private let handle: UnsafeMutableRawPointer
    private let socket: String

    /// Creates a client for the API socket at `socket`.
    init(socket: String) {
        // curl_easy_init returns NULL only when memory or libcurl's global setup fails.
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed") }
        self.handle = handle
        self.socket = socket
    }

    deinit { curl_easy_cleanup(handle) }

    /// Sends `PUT path` with `body` as JSON and returns the response.
    func put(_ path: String, _ body: [String: Any]) throws -> Response {
        let json = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        curl_easy_reset(handle)
        let sink = Sink()
        var headers: UnsafeMutablePointer<curl_slist>?
        headers = curl_slist_append(headers, "Content-Type: application/json")
        headers = curl_slist_append(headers, "Accept: application/json")
        defer { curl_slist_free_all(headers) }
        let context = "firecracker API PUT \(path)"
        try check(kfc_curl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socket), context)
        // The host name is not used for a unix socket but must be present in the URL.
        try check(kfc_curl_setopt_string(handle, CURLOPT_URL, "http://localhost\(path)"), context)
        try check(kfc_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, "PUT"), context)
        try check(kfc_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, json.count), context)
        try check(
            kfc_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, String(decoding: json,
                as: UTF8.self)), context)
        try check(kfc_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, headers), context)
        try check(kfc_curl_setopt_long(handle, CURLOPT_TIMEOUT, 10), context)
        try check(kfc_curl_setopt_write(handle, FirecrackerAPI.collect), context)
        // Safe: the sink outlives the transfer, which ends before this function returns.
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        try check(
            kfc_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, unmanaged.toOpaque()), context)
        try check(curl_easy_perform(handle), context)
        var status = 0
        try check(kfc_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status), context)
        return Response(status: status, body: sink.data)
    }

    /// Appends a piece of the response body to the `Sink` behind `context`.
    private static let collect: kfc_curl_write_callback = { data, size, count, context in
        guard let data, let context else { return 0 }
        let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
        sink.data.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self),
            count: size * count)
        return size * count
    }

    private func check(_ code: CURLcode, _ context: String) throws {
        guard code == CURLE_OK else {
            let text = curl_easy_strerror(code).map { String(cString: $0) } ?? "curl error"
            throw KFCError.failed(context, text)
        }
    }
}
