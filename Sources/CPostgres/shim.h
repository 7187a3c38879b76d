#ifndef CLPR_CPOSTGRES_SHIM_H
#define CLPR_CPOSTGRES_SHIM_H
#include <libpq-fe.h>

/// PG_DIAG_SQLSTATE is a character macro (`'C'`) that Swift does not import: reads the SQLSTATE of a result.
static inline const char *cpq_sqlstate(const PGresult *result) {
    return PQresultErrorField(result, PG_DIAG_SQLSTATE);
}

/// PG_DIAG_MESSAGE_PRIMARY is a character macro too: the error's primary message.
static inline const char *cpq_primary_message(const PGresult *result) {
    return PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
}

/// The notice processor behind `cpq_silence_notices`: drops the message.
static inline void cpq_ignore_notice(void *argument, const char *message) {
    (void)argument;
    (void)message;
}

/// Installs a notice processor that drops NOTICEs (they would otherwise go to stderr, outside our logger).
static inline void cpq_silence_notices(PGconn *connection) {
    PQsetNoticeProcessor(connection, cpq_ignore_notice, NULL);
}
#endif
