#ifndef CLPR_CHIREDIS_SHIM_H
#define CLPR_CHIREDIS_SHIM_H

// System headers first (keeps struct timeval and friends identical to SwiftGlibc's view), then hiredis's
// synchronous API only: the subscriber blocks in `redisGetReply` on a thread of its own, so no event loop is needed.
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <hiredis/hiredis.h>

#endif
