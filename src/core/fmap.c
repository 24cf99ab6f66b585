#include "core/fmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsx.h"

int fmap_fd(int fd, size_t n, const char *path, struct fmap *m, struct lb_err *err)
{
	*m = (struct fmap){"", 0, 0};
	if (n == 0)
		return 0;
	void *p = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return err_sys(err, LB_EIO, "%s: mmap", path);
	/* read front to back: read ahead, and the pages behind may go */
	(void)madvise(p, n, MADV_SEQUENTIAL);
	m->p = p;
	m->n = n;
	return 0;
}

int fmap_open(const char *path, bool state, struct fmap *m, struct lb_err *err)
{
	*m = (struct fmap){"", 0, 0};
	int fd = state ? fsx_open_state(path, O_RDONLY, 0, err) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && !state)
		return err_sys(err, errno == ENOENT ? LB_ENOINPUT : fsx_errno_code(errno), "%s",
			       path);
	if (fd < 0)
		return err->code;
	struct stat st;
	int rc = fstat(fd, &st) < 0 ? err_sys(err, LB_EIO, "%s", path)
				    : fmap_fd(fd, (size_t)st.st_size, path, m, err);
	close(fd);
	return rc;
}

void fmap_used(struct fmap *m, size_t n)
{
	m->since += n;
	if (m->since < FMAP_WINDOW || !m->n)
		return;
	m->since = 0;
	(void)madvise((void *)(uintptr_t)m->p, m->n, MADV_DONTNEED);
}

void fmap_close(struct fmap *m)
{
	if (m->n)
		munmap((void *)(uintptr_t)m->p, m->n);
	*m = (struct fmap){"", 0, 0};
}
