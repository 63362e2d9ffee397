/* Internal: marks a definition as part of libsbx's public ABI. */
#ifndef SBX_EXPORT_H
#define SBX_EXPORT_H
#define SBX_EXPORT __attribute__((visibility("default")))
#endif
