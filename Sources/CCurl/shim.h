#pragma once
#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call, so each
   argument type gets a fixed-signature wrapper. */
typedef size_t (*kfc_curl_write_callback)(char *, size_t, size_t, void *);
typedef int (*kfc_curl_progress_callback)(void *, curl_off_t, curl_off_t, curl_off_t,
                                          curl_off_t);

static inline CURLcode kfc_curl_setopt_long(CURL *h, CURLoption o, long v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode kfc_curl_setopt_string(CURL *h, CURLoption o, const char *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode kfc_curl_setopt_pointer(CURL *h, CURLoption o, void *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode kfc_curl_setopt_write(CURL *h, kfc_curl_write_callback f) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f);
}
static inline CURLcode kfc_curl_setopt_progress(CURL *h, kfc_curl_progress_callback f) {
    return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, f);
}
static inline CURLcode kfc_curl_getinfo_long(CURL *h, CURLINFO i, long *v) {
    return curl_easy_getinfo(h, i, v);
}
