#ifndef CLPR_CMICROHTTPD_SHIM_H
#define CLPR_CMICROHTTPD_SHIM_H

// System headers first (keeps fd_set and friends identical to SwiftGlibc's view), then libmicrohttpd.
#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/epoll.h>    // the stream socket loop
#include <sys/eventfd.h>
#include <microhttpd.h>

/// Receives one formatted libmicrohttpd message (`MHD_OPTION_EXTERNAL_LOGGER` hands out a `va_list`,
/// which Swift cannot consume).
typedef void (*cmhd_log_fn)(void *cls, const char *message);

/// The closure pair behind ``cmhd_log_trampoline``; it must outlive the daemon.
struct cmhd_logger {
    cmhd_log_fn fn;
    void *cls;
};

/// Formats MHD's `printf`-style message and forwards it to the Swift logger in `cls` (a `struct cmhd_logger *`).
static inline void cmhd_log_trampoline(void *cls, const char *fmt, va_list ap) {
    struct cmhd_logger *logger = (struct cmhd_logger *)cls;
    char buffer[512];
    vsnprintf(buffer, sizeof buffer, fmt, ap);
    size_t length = strlen(buffer);
    while (length > 0 && (buffer[length - 1] == '\n' || buffer[length - 1] == '\r')) {
        buffer[--length] = '\0';
    }
    logger->fn(logger->cls, buffer);
}

static inline size_t cmhd_unescape(void *cls, struct MHD_Connection *connection, char *s);

/// `MHD_start_daemon` is variadic (not imported by Swift): this passes the accept policy (may be NULL), the
/// completion and connection callbacks (the latter may be NULL), ``cmhd_unescape``, the external logger (routed through
/// ``cmhd_log_trampoline``, may be NULL) and an `MHD_OPTION_END`-terminated option array.
static inline struct MHD_Daemon *cmhd_start_daemon(unsigned int flags, uint16_t port,
                                                   MHD_AcceptPolicyCallback accept_policy, void *accept_policy_cls,
                                                   MHD_AccessHandlerCallback handler, void *handler_cls,
                                                   MHD_RequestCompletedCallback completed, void *completed_cls,
                                                   MHD_NotifyConnectionCallback notify, void *notify_cls,
                                                   struct cmhd_logger *logger, struct MHD_OptionItem *options) {
    if (logger != NULL) {
        // The logger must be the first option, or MHD prints to stderr while parsing the ones before it.
        return MHD_start_daemon(flags, port, accept_policy, accept_policy_cls, handler, handler_cls,
                                MHD_OPTION_EXTERNAL_LOGGER, cmhd_log_trampoline, (void *)logger,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls,
                                MHD_OPTION_NOTIFY_CONNECTION, notify, notify_cls,
                                MHD_OPTION_UNESCAPE_CALLBACK, cmhd_unescape, NULL,
                                MHD_OPTION_ARRAY, options, MHD_OPTION_END);
    }
    return MHD_start_daemon(flags, port, accept_policy, accept_policy_cls, handler, handler_cls,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls,
                            MHD_OPTION_NOTIFY_CONNECTION, notify, notify_cls,
                            MHD_OPTION_UNESCAPE_CALLBACK, cmhd_unescape, NULL,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

/// The client's IP address as a map key: IPv4 as its IPv4-mapped IPv6 form, so each address has one key.
/// Returns 1 and fills `high`/`low` (network order bytes read as big-endian halves), or 0 for other families.
static inline int cmhd_address_key(const struct sockaddr *address, uint64_t *high, uint64_t *low) {
    unsigned char bytes[16] = {0};
    if (address == NULL) {
        return 0;
    } else if (address->sa_family == AF_INET) {
        bytes[10] = 0xff;
        bytes[11] = 0xff;
        memcpy(bytes + 12, &((const struct sockaddr_in *)(const void *)address)->sin_addr, 4);
    } else if (address->sa_family == AF_INET6) {
        memcpy(bytes, &((const struct sockaddr_in6 *)(const void *)address)->sin6_addr, 16);
    } else {
        return 0;
    }
    uint64_t h = 0, l = 0;
    for (int i = 0; i < 8; i++) {
        h = (h << 8) | bytes[i];
        l = (l << 8) | bytes[8 + i];
    }
    *high = h;
    *low = l;
    return 1;
}

/// ``cmhd_address_key`` of a connection's client.
static inline int cmhd_connection_address_key(struct MHD_Connection *connection, uint64_t *high, uint64_t *low) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return info == NULL ? 0 : cmhd_address_key(info->client_addr, high, low);
}

/// `MHD_get_daemon_info` is variadic: returns the port the daemon is bound to (0 if unknown).
static inline uint16_t cmhd_daemon_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

/// `MHD_get_connection_info` is variadic: writes the peer's numeric address into `buffer` (NUL-terminated).
/// Returns 1 on success, 0 when the address is unknown or not IPv4/IPv6.
static inline int cmhd_client_address(struct MHD_Connection *connection, char *buffer, size_t length) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL || length == 0) {
        return 0;
    }
    const struct sockaddr *address = info->client_addr;
    const void *raw = NULL;
    if (address->sa_family == AF_INET) {
        raw = &((const struct sockaddr_in *)(const void *)address)->sin_addr;
    } else if (address->sa_family == AF_INET6) {
        raw = &((const struct sockaddr_in6 *)(const void *)address)->sin6_addr;
    } else {
        return 0;
    }
    return inet_ntop(address->sa_family, raw, buffer, (socklen_t)length) != NULL ? 1 : 0;
}

/// `MHD_get_connection_info` is variadic: the connection's socket, or -1.
static inline int cmhd_connection_socket(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : (int)info->connect_fd;
}

/// `MHD_set_response_options` is variadic: marks `response` to be sent without chunked encoding, its end marked
/// by closing the connection (`MHD_RF_HTTP_1_0_COMPATIBLE_STRICT`). 1 on success.
static inline int cmhd_close_after_body(struct MHD_Response *response) {
    return MHD_set_response_options(response, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT, MHD_RO_END) == MHD_YES ? 1 : 0;
}

/// Adds one parsed value's share of libmicrohttpd's pool (its name and value, and the entry that lists them) to the
/// `size_t` in `cls`.
static inline enum MHD_Result cmhd_count_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                                const char *value) {
    (void)kind;
    size_t *total = (size_t *)cls;
    *total += (key != NULL ? strlen(key) : 0) + (value != NULL ? strlen(value) : 0) + 64;
    return MHD_YES;
}

/// Roughly the bytes the request's head takes in libmicrohttpd's per-connection pool: every header, cookie and
/// query argument with its list entry (the caller adds the path).
static inline size_t cmhd_head_bytes(struct MHD_Connection *connection) {
    size_t total = 0;
    MHD_get_connection_values(connection, (enum MHD_ValueKind)(MHD_HEADER_KIND | MHD_COOKIE_KIND | MHD_GET_ARGUMENT_KIND),
                              cmhd_count_value, &total);
    return total;
}

/// `MHD_OPTION_UNESCAPE_CALLBACK`: libmicrohttpd's own unescaping, except that a string holding `%00` is left as
/// it is. Decoded, the NUL would end the C string handed to the server, so `/metrics%00.css` would be routed as
/// `/metrics`; left escaped, it matches no route.
static inline size_t cmhd_unescape(void *cls, struct MHD_Connection *connection, char *s) {
    (void)cls;
    (void)connection;
    if (strstr(s, "%00") != NULL) {
        return strlen(s);
    }
    return MHD_http_unescape(s);
}

#endif
