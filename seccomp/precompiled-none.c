/* No precompiled filters: for gen-precompiled itself (which must compile
 * everything with libseccomp), cross builds and fuzz builds. */
#include "seccomp/precompiled.h"

const struct sbx_precompiled sbx_precompiled[1];
const size_t sbx_nprecompiled = 0;
const unsigned sbx_precompiled_libseccomp[3];
