#ifndef CLPR_CJANSSON_SHIM_H
#define CLPR_CJANSSON_SHIM_H

// jansson parses plan payloads (Debian's libjansson-dev). Its type tests are macros, which Swift cannot call:
// these inline wrappers stand in for them.
#include <stddef.h>
#include <jansson.h>

/// The value's type, or -1 for NULL (a missing key).
static inline int cjansson_type(const json_t *value) { return value ? (int)json_typeof(value) : -1; }

#endif
