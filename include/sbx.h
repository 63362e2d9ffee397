/* sbx: privilege-separated sandbox helper. One header for the whole API. */
#ifndef SBX_H
#define SBX_H

#include <sbx/proto.h>
#include <sbx/policy.h>
#include <sbx/confine.h>
#include <sbx/broker.h>
#include <sbx/client.h>

#endif
