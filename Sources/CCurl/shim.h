#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H

#include <stddef.h>
#include <curl/curl.h>

/// curl_easy_setopt is variadic (not imported into Swift): one typed wrapper per argument kind.
static inline CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

/// curl_easy_setopt for string and pointer options (URL, POSTFIELDS, HTTPHEADER, WRITEDATA, …).
static inline CURLcode ccurl_setopt_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}

/// curl_easy_setopt for CURLOPT_POSTFIELDSIZE_LARGE (a curl_off_t argument).
static inline CURLcode ccurl_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/// The body callback type, named so Swift can pass a @convention(c) function.
typedef size_t (*ccurl_write_callback)(char *data, size_t size, size_t count, void *context);

/// curl_easy_setopt(CURLOPT_WRITEFUNCTION) with a typed function pointer.
static inline CURLcode ccurl_setopt_write_function(CURL *handle, ccurl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

/// curl_easy_getinfo is variadic: the one long-valued query the client needs.
static inline CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// curl_global_init(CURL_GLOBAL_DEFAULT): the flag is a macro expression Swift does not import.
static inline CURLcode ccurl_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}

#endif
