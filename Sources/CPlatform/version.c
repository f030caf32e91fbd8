#include "cplatform.h"

/// The release version of both binaries and their Debian packages: the one place it is set
/// (scripts/package.sh reads it from this line). Raise it for every release a board may get.
#define PATROL_VERSION "0.15.0"

// Package.swift defines PATROL_COMMIT when the build is given one (scripts/package.sh: the short
// hash, "+dirty" with uncommitted changes); other builds do not know their commit and say so.
#ifdef PATROL_COMMIT
#define PATROL_BUILT_FROM "commit " PATROL_COMMIT
#else
#define PATROL_BUILT_FROM "unknown commit"
#endif

const char *patrol_version(void) {
    return PATROL_VERSION " (" PATROL_BUILT_FROM ")";
}
