#include "core/crash.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

void crash_point(const char *where)
{
	const char *e = getenv("LETTERBOX_TEST_CRASH");
	if (e && strcmp(e, where) == 0)
		raise(SIGKILL);
}
