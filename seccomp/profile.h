/* Internal to seccomp/: the syscall lists of the profiles. */
#ifndef SBX_SECCOMP_PROFILE_H
#define SBX_SECCOMP_PROFILE_H

#include <stddef.h>

/* NULL-terminated lists of syscall names allowed without conditions.
 * Names the running libseccomp does not know are skipped. */
extern const char *const sbx_profile_default_allow[];
extern const char *const sbx_profile_strict_allow[];
/* open/openat/openat2/creat: allowed, or SCMP_ACT_NOTIFY with notify_open. */
extern const char *const sbx_profile_open_calls[];

#endif
