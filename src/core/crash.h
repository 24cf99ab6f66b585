/* Test-only crash points: LETTERBOX_TEST_CRASH=NAME makes crash_point(NAME)
 * kill the process with SIGKILL there, as a power cut or kill -9 would, so
 * that the tests can show what survives each step of a multi-step change.
 * The names are listed where the points are (grep crash_point). */
#ifndef LB_CRASH_H
#define LB_CRASH_H

void crash_point(const char *where);

#endif
