#include "core/timefmt.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsx.h"

/* Read exactly `digits` decimal digits at *i. */
static bool num(struct span s, size_t *i, int digits, int *out)
{
	int v = 0;
	for (int k = 0; k < digits; k++, (*i)++) {
		if (*i >= s.n || s.p[*i] < '0' || s.p[*i] > '9')
			return false;
		v = v * 10 + (s.p[*i] - '0');
	}
	*out = v;
	return true;
}

static bool lit(struct span s, size_t *i, char c)
{
	if (*i < s.n && s.p[*i] == c) {
		(*i)++;
		return true;
	}
	return false;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : d[m - 1];
}

/* Zone suffix: Z, UTC, +hh:mm, +hhmm, -hh. Sets *off in seconds east of UTC. */
static bool zone(struct span s, size_t *i, bool *has, long *off)
{
	while (*i < s.n && s.p[*i] == ' ')
		(*i)++;
	if (*i == s.n)
		return true;
	struct span rest = {s.p + *i, s.n - *i};
	if (span_eq(rest, "Z") || span_eq(rest, "UTC") || span_eq(rest, "GMT")) {
		*has = true;
		*off = 0;
		*i = s.n;
		return true;
	}
	char sign = s.p[*i];
	if (sign != '+' && sign != '-')
		return false;
	(*i)++;
	int hh, mm = 0;
	if (!num(s, i, 2, &hh))
		return false;
	lit(s, i, ':');
	if (*i < s.n && !num(s, i, 2, &mm))
		return false;
	if (hh > 14 || mm > 59)
		return false;
	*has = true;
	*off = (sign == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
	return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian, y >= 1969): timegm's
 * arithmetic without its normalising, which costs more than the parsing
 * (the inquiry log has a time per record). */
static long days_since_epoch(int y, int m, int d)
{
	y -= m <= 2;
	long era = y / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool time_parse(struct span s, time_t *out)
{
	s = span_trim(s);
	size_t i = 0;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	if (!num(s, &i, 4, &y) || !lit(s, &i, '-') || !num(s, &i, 2, &mo) || !lit(s, &i, '-') ||
	    !num(s, &i, 2, &d))
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return false;
	if (i < s.n && (s.p[i] == 'T' || s.p[i] == ' ') && i + 1 < s.n && s.p[i + 1] >= '0' &&
	    s.p[i + 1] <= '9') {
		i++;
		if (!num(s, &i, 2, &h) || !lit(s, &i, ':') || !num(s, &i, 2, &mi))
			return false;
		if (lit(s, &i, ':') && !num(s, &i, 2, &sec))
			return false;
		if (h > 23 || mi > 59 || sec > 60)
			return false;
	}
	bool has_zone = false;
	long off = 0;
	if (!zone(s, &i, &has_zone, &off) || i != s.n)
		return false;
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (has_zone) {
		*out = (time_t)days_since_epoch(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	} else {
		tm.tm_isdst = -1;
		*out = mktime(&tm);
	}
	return *out != (time_t)-1;
}

static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const month[] = {"January",	 "February", "March",	 "April",
				    "May",	 "June",     "July",	 "August",
				    "September", "October",  "November", "December"};

void time_rfc5322(struct buf *out, time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	long off = tm.tm_gmtoff / 60;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	buf_printf(out, "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld", wday[tm.tm_wday], tm.tm_mday,
		   mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
		   off / 60, off % 60);
}

void time_human_date(struct buf *out, time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	buf_printf(out, "%d %s %04d", tm.tm_mday, month[tm.tm_mon], tm.tm_year + 1900);
}

void time_local(struct buf *out, time_t t)
{
	struct tm tm;
	char zone[64];
	localtime_r(&t, &tm);
	if (!strftime(zone, sizeof zone, "%Z", &tm))
		zone[0] = '\0';
	buf_printf(out, "%04d-%02d-%02d %02d:%02d%s%s", tm.tm_year + 1900, tm.tm_mon + 1,
		   tm.tm_mday, tm.tm_hour, tm.tm_min, zone[0] ? " " : "", zone);
}

void time_local_iso(struct buf *out, const char *s)
{
	time_t t;
	if (time_parse(span_cstr(s), &t))
		time_local(out, t);
	else
		buf_adds(out, s);
}

bool time_zone_known(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > 200 || name[0] == '/' || name[n - 1] == '/')
		return false;
	for (const char *p = name; *p; p++) {
		bool start = p == name || p[-1] == '/';
		if (start && *p == '.') /* no "..", no hidden files */
			return false;
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || strchr("_+-./", *p)))
			return false;
		if (*p == '/' && p[1] == '/')
			return false;
	}
	const char *dir = getenv("TZDIR");
	char *path = path_join(dir && *dir ? dir : "/usr/share/zoneinfo", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO never blocks us */
	free(path);
	char magic[4];
	bool ok = fd >= 0 && read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
		  memcmp(magic, "TZif", 4) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

void time_zone_use(const char *name)
{
	struct buf tz = BUF_INIT;
	buf_printf(&tz, ":%s", name); /* ":" : a file of the database, never a POSIX rule */
	setenv("TZ", tz.p, 1);
	buf_free(&tz);
	tzset();
}

void time_iso(struct buf *out, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void time_age(struct buf *out, time_t then, time_t now)
{
	long s = (long)(now - then);
	if (s < 3600)
		buf_printf(out, "%ldm", s < 60 ? 0 : s / 60);
	else if (s < 86400)
		buf_printf(out, "%ldh", s / 3600);
	else
		buf_printf(out, "%ldd", s / 86400);
}
