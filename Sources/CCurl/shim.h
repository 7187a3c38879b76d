#ifndef CLPR_CCURL_SHIM_H
#define CLPR_CCURL_SHIM_H
#include <stddef.h>
#include <curl/curl.h>

/// `curl_easy_setopt` is variadic (not imported into Swift): one typed wrapper per argument kind.
static inline CURLcode ccurl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

/// `curl_easy_setopt` with a `long` argument (flags, sizes, timeouts).
static inline CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

/// `curl_easy_setopt` with an object pointer (header lists, write data, post fields).
static inline CURLcode ccurl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/// The write callback's type, so Swift can pass a `@convention(c)` function.
typedef size_t (*ccurl_write_callback)(char *data, size_t size, size_t count, void *context);

/// `curl_easy_setopt(CURLOPT_WRITEFUNCTION, …)`: a function pointer cannot travel through `void *` portably.
static inline CURLcode ccurl_setopt_write_function(CURL *handle, ccurl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

/// `curl_easy_getinfo(CURLINFO_RESPONSE_CODE, …)` is variadic too.
static inline CURLcode ccurl_response_code(CURL *handle, long *code) {
    return curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, code);
}
#endif
