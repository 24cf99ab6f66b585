#include "core/datadir.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"

#ifndef LB_DATADIR
#define LB_DATADIR "/usr/local/share/letterbox"
#endif

const char *datadir(void)
{
	static char dir[PATH_MAX];
	if (dir[0])
		return dir;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
	if (slash) {
		*slash = '\0';
		/* BINDIR/../share/letterbox */
		char *up = strrchr(exe, '/');
		if (up) {
			*up = '\0';
			char *cand = path_join(*exe ? exe : "/", "share/letterbox");
			if (strlen(cand) < sizeof dir && fsx_exists(cand)) {
				memcpy(dir, cand, strlen(cand) + 1);
				free(cand);
				return dir;
			}
			free(cand);
		}
	}
	memcpy(dir, LB_DATADIR, sizeof LB_DATADIR);
	return dir;
}

char *datadir_template(const struct config *cfg, const char *file, bool *installed)
{
	char *rel = path_join("templates", file);
	char *site = config_path(cfg, rel);
	free(rel);
	if (installed)
		*installed = false;
	if (fsx_exists(site))
		return site;
	char *dir = path_join(datadir(), "templates");
	char *shared = path_join(dir, file);
	free(dir);
	if (!fsx_exists(shared)) {
		free(shared);
		return site;
	}
	log_info("templates/%s: not in the site, using %s", file, shared);
	if (installed)
		*installed = true;
	free(site);
	return shared;
}

int datadir_missing(const char *file, struct lb_err *err)
{
	return err_set(err, LB_ENOINPUT,
		       "templates/%s: the template is missing, and %s/templates has none either "
		       "(`letterbox init --templates` copies the ones this letterbox has)",
		       file, datadir());
}
