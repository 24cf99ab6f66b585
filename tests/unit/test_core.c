/* core: YAML helpers, config, times, tokens, atomic files. */
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/fsx.h"
#include "core/termsafe.h"
#include "core/timefmt.h"
#include "core/token.h"
#include "core/yamlx.h"
#include "harness.h"

static char tmpdir[64];

static const char *write_tmp(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_time_parse(void)
{
	static const struct {
		const char *in;
		long long want; /* UTC seconds; -1 = must fail */
	} cases[] = {
	    {"2026-11-25", 1795564800LL},
	    {"2026-11-25 09:30", 1795564800LL + 9 * 3600 + 30 * 60},
	    {"2026-11-25T09:30:15Z", 1795564800LL + 9 * 3600 + 30 * 60 + 15},
	    {"2026-11-25T09:30:00+01:00", 1795564800LL + 8 * 3600 + 30 * 60},
	    {"2026-11-25 09:30 -0500", 1795564800LL + 14 * 3600 + 30 * 60},
	    {"2026-11-25 09:30 UTC", 1795564800LL + 9 * 3600 + 30 * 60},
	    {"  2024-02-29  ", 1709164800LL},
	    {"2026-02-29", -1},
	    {"2026-13-01", -1},
	    {"2026-11-25 25:00", -1},
	    {"2026-11-25 09:3", -1},
	    {"25 November 2026", -1},
	    {"2026-11-25 09:30 +2500", -1},
	    {"2026-11-25junk", -1},
	    {"", -1},
	};
	setenv("TZ", "UTC", 1);
	tzset();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		time_t t = 0;
		bool ok = time_parse(span_cstr(cases[i].in), &t);
		if (cases[i].want < 0) {
			if (!harness_check(!ok, __FILE__, __LINE__, cases[i].in))
				fprintf(stderr, "    parsed '%s' but should not\n", cases[i].in);
		} else {
			CHECK(ok);
			CHECK_INT(t, cases[i].want);
		}
	}
	struct buf b = BUF_INIT;
	time_rfc5322(&b, 1795564800LL + 9 * 3600);
	CHECK_STR(b.p, "Wed, 25 Nov 2026 09:00:00 +0000");
	buf_reset(&b);
	time_human_date(&b, 1795564800LL);
	CHECK_STR(b.p, "25 November 2026");
	buf_reset(&b);
	time_iso(&b, 1795564800LL);
	CHECK_STR(b.p, "2026-11-25T00:00:00Z");
	buf_free(&b);
}

/* Times for people are local in site.timezone, with the zone; both sides of
 * each zone's spring change. */
/* Times with a zone are computed without timegm: the same answer for every
 * day of 1970 to 2500, and a leap second as timegm counts it. */
static void test_time_parse_arithmetic(void)
{
	int wrong = 0;
	for (int y = 1970; y <= 2500; y++)
		for (int m = 1; m <= 12; m++)
			for (int d = 1; d <= 31; d++) {
				char in[40];
				snprintf(in, sizeof in, "%04d-%02d-%02dT%02d:%02d:59+01:30", y, m,
					 d, (y + d) % 24, (m * d) % 60);
				time_t t;
				if (!time_parse(span_cstr(in), &t))
					continue; /* no such day */
				struct tm tm = {.tm_year = y - 1900,
						.tm_mon = m - 1,
						.tm_mday = d,
						.tm_hour = (y + d) % 24,
						.tm_min = (m * d) % 60,
						.tm_sec = 59};
				wrong += t != timegm(&tm) - 5400;
			}
	CHECK_INT(wrong, 0);
	time_t t;
	CHECK(time_parse(span_cstr("2016-12-31T23:59:60Z"), &t));
	CHECK_INT(t, 1483228800);
}

static void test_time_zones(void)
{
	CHECK(time_zone_known("Europe/London"));
	CHECK(time_zone_known("America/Los_Angeles"));
	CHECK(time_zone_known("UTC"));
	const char *bad[] = {
	    "Mars/Olympus_Mons",       "Europe",	 "Europe/", "../../../etc/passwd",
	    "/usr/share/zoneinfo/UTC", "Europe//London", "",	    "Europe/London x",
	    "EST5EDT,M3.2.0,M11.1.0"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (!harness_check(!time_zone_known(bad[i]), __FILE__, __LINE__, bad[i]))
			fprintf(stderr, "    '%s' taken for a zone\n", bad[i]);
	static const struct {
		const char *zone;
		long long t;
		const char *want;
	} cases[] = {
	    {"Europe/London", 1774745940LL, "2026-03-29 00:59 GMT"},
	    {"Europe/London", 1774746000LL, "2026-03-29 02:00 BST"},
	    {"Europe/London", 1795628100LL, "2026-11-25 17:35 GMT"},
	    {"America/Los_Angeles", 1772963940LL, "2026-03-08 01:59 PST"},
	    {"America/Los_Angeles", 1772964000LL, "2026-03-08 03:00 PDT"},
	    {"America/Los_Angeles", 1795628100LL, "2026-11-25 09:35 PST"},
	};
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		time_zone_use(cases[i].zone);
		buf_reset(&b);
		time_local(&b, (time_t)cases[i].t);
		CHECK_STR(b.p, cases[i].want);
	}
	/* A state file's UTC, shown local; what does not parse is shown as is. */
	buf_reset(&b);
	time_local_iso(&b, "2026-11-25T17:35:00Z");
	CHECK_STR(b.p, "2026-11-25 09:35 PST");
	buf_reset(&b);
	time_local_iso(&b, "yesterday");
	CHECK_STR(b.p, "yesterday");
	buf_free(&b);
	setenv("TZ", "UTC", 1);
	tzset();
}

static void test_tokens(void)
{
	struct secret s;
	for (int i = 0; i < SECRET_LEN; i++)
		s.key[i] = (unsigned char)i;
	char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1], c[TOKEN_LEN + 1];
	token_make(&s, "news.example.org", "Ada@Example.org", a);
	token_make(&s, "news.example.org", "ada@example.org", b);
	token_make(&s, "other.example.org", "ada@example.org", c);
	CHECK_INT(strlen(a), TOKEN_LEN);
	CHECK_STR(a, b);
	CHECK(strcmp(a, c) != 0);
	CHECK(strspn(a, "abcdefghijklmnopqrstuvwxyz234567") == TOKEN_LEN);
	CHECK(token_verify(&s, "news.example.org", "ada@example.org", a));
	/* The value itself: HMAC-SHA256(key, "news.example.org\0ada@example.org"),
	 * its first 10 bytes in base32 (python3's hmac says so). */
	CHECK_STR(a, "b4yvlsawn7nwlopf");
	/* A maker gives every address the token token_make gives it, a long one
	 * (past its 256-byte chunks) included. */
	struct token_maker m;
	token_maker_init(&m, &s, "news.example.org");
	char longaddr[700], d[TOKEN_LEN + 1], e[TOKEN_LEN + 1];
	memset(longaddr, 'X', sizeof longaddr - 1);
	longaddr[sizeof longaddr - 1] = '\0';
	const char *addrs[] = {"Ada@Example.org", "zoe@example.org", "", longaddr};
	for (size_t i = 0; i < sizeof addrs / sizeof *addrs; i++) {
		token_maker_make(&m, addrs[i], d);
		token_make(&s, "news.example.org", addrs[i], e);
		CHECK_STR(d, e);
	}
	for (char *p = a; *p; p++)
		*p = (char)(*p >= 'a' ? *p - 32 : *p);
	CHECK(token_verify(&s, "news.example.org", "ada@example.org", a));
	CHECK(!token_verify(&s, "news.example.org", "bob@example.org", b));
	b[3] = b[3] == 'a' ? 'b' : 'a';
	CHECK(!token_verify(&s, "news.example.org", "ada@example.org", b));
	CHECK(!token_verify(&s, "news.example.org", "ada@example.org", "short"));

	/* The secret: created 0600 on first use, the same one read back later. */
	char state[128];
	snprintf(state, sizeof state, "%s/state", tmpdir);
	struct secret s1, s2;
	struct lb_err err;
	CHECK_INT(secret_load(state, false, &s1, &err), LB_ENOINPUT);
	CHECK_INT(secret_load(state, true, &s1, &err), 0);
	CHECK_INT(secret_load(state, false, &s2, &err), 0);
	CHECK(memcmp(s1.key, s2.key, SECRET_LEN) == 0);
	struct stat st;
	char path[256];
	snprintf(path, sizeof path, "%s/secret", state);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(stat(state, &st) == 0 && (st.st_mode & 0777) == 0700);
	chmod(path, 0644);
	CHECK_INT(secret_load(state, false, &s2, &err), LB_ECONFIG);
}

static const char good_config[] = "site:\n"
				  "  name: Example Practice\n"
				  "  postal_address: 1 Main St\n"
				  "from: \"Example Practice <news@example.org>\"\n"
				  "list_id: news.example.org\n"
				  "unsubscribe:\n"
				  "  mailto: \"unsubscribe+{token}@example.org\"\n"
				  "outgoing:\n"
				  "  url: smtp://127.0.0.1:2525\n"
				  "  connections: 2\n"
				  "  rate: 600/min\n"
				  "send: { catch_up: 2d, give_up: 12h }\n";

static void test_config_good(void)
{
	struct config c;
	struct lb_err err = {0};
	const char *p = write_tmp("good.yaml", good_config);
	int rc = config_load(&c, tmpdir, p, &err);
	CHECK_INT(rc, 0);
	if (rc) {
		fprintf(stderr, "    %s\n", err.msg);
		config_free(&c);
		return;
	}
	CHECK_STR(c.site_name, "Example Practice");
	CHECK_STR(c.from.spec, "news@example.org");
	CHECK_STR(c.from.display, "Example Practice");
	CHECK_STR(c.out.url, "smtp://127.0.0.1:2525");
	CHECK_STR(c.in.url, "maildir:inbox");
	CHECK_INT(c.out.connections, 2);
	CHECK(c.out.rate > 9.99 && c.out.rate < 10.01);
	CHECK_INT(c.catch_up, 2 * 86400);
	CHECK_INT(c.give_up, 12 * 3600);
	CHECK_INT(c.in.max_size, 25 << 20);
	CHECK_STR(c.site_lang, "en");
	char *x = config_expand(c.unsub_mailto, "tok", NULL);
	CHECK_STR(x, "unsubscribe+tok@example.org");
	free(x);
	config_free(&c);
}

static void test_config_errors(void)
{
	static const struct {
		const char *replace, *with, *want;
	} cases[] = {
	    {"list_id: news.example.org\n", "",
	     "good.yaml:1:1: letterbox.yaml is missing the required key 'list_id'"},
	    {"  connections: 2\n", "  connections: lots\n",
	     "good.yaml:10:16: 'connections' must be a whole number from 1 to 64, not 'lots'"},
	    {"  rate: 600/min\n", "  rate: fast\n", "good.yaml:11:9: 'rate' must look like"},
	    {"send: { catch_up: 2d", "send: { catch_up: soon",
	     "good.yaml:12:19: 'catch_up' must be a duration"},
	    {"list_id:", "colour: red\nlist_id:",
	     "good.yaml:5:1: unknown key 'colour' in letterbox.yaml"},
	    {"  name: Example Practice\n", "  name: Example Practice\n  name: Again\n",
	     "good.yaml:3:3: duplicate key 'name' in site"},
	    {"url: smtp://127.0.0.1:2525", "url: ftp://x",
	     "good.yaml:9:8: outgoing.url must start with"},
	    {"from: \"Example Practice <news@example.org>\"",
	     "from: \"Example <news@@example.org>\"", "good.yaml:4:7: 'from': "},
	    {"\"unsubscribe+{token}@example.org\"", "\"unsubscribe\"",
	     "good.yaml:7:11: 'unsubscribe.mailto': "},
	    {"site:\n", "site:\n  url: [oops\n", "good.yaml:"},
	    {"  postal_address: 1 Main St\n", "",
	     "good.yaml:2:3: site is missing the required key 'postal_address'"},
	    {"  name: Example Practice\n", "  name: Example Practice\n  timezone: Europe/Lundon\n",
	     "good.yaml:3:13: 'timezone': 'Europe/Lundon' is not a zone of the time zone database"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b = BUF_INIT;
		const char *at = strstr(good_config, cases[i].replace);
		CHECK(at != NULL);
		if (!at)
			continue;
		buf_add(&b, good_config, (size_t)(at - good_config));
		buf_adds(&b, cases[i].with);
		buf_adds(&b, at + strlen(cases[i].replace));
		const char *p = write_tmp("good.yaml", b.p);
		struct config c;
		struct lb_err err = {0};
		int rc = config_load(&c, tmpdir, p, &err);
		CHECK_INT(rc, LB_ECONFIG);
		const char *rel = strstr(err.msg, "good.yaml");
		if (!harness_check(rel && strncmp(rel, cases[i].want, strlen(cases[i].want)) == 0,
				   __FILE__, __LINE__, cases[i].want))
			fprintf(stderr, "    got \"%s\"\n", err.msg);
		config_free(&c);
		buf_free(&b);
	}
}

static void test_atomic_write(void)
{
	char path[256];
	snprintf(path, sizeof path, "%s/deep/er/file", tmpdir);
	struct lb_err err;
	char dir[256];
	snprintf(dir, sizeof dir, "%s/deep/er", tmpdir);
	CHECK_INT(fsx_mkdirs(dir, 0700, &err), 0);
	CHECK_INT(fsx_write_atomic(path, "one", 3, 0600, &err), 0);
	CHECK_INT(fsx_write_atomic(path, "two!", 4, 0600, &err), 0);
	struct buf b = BUF_INIT;
	CHECK_INT(fsx_read(path, &b, 0, &err), 0);
	CHECK_STR(buf_cstr(&b), "two!");
	buf_reset(&b);
	CHECK_INT(fsx_read(path, &b, 2, &err), LB_EDATA);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	/* fsx_write_new never replaces anything, not even through a link. */
	CHECK_INT(fsx_write_new(path, "new", 3, 0600, &err), LB_EDATA);
	buf_reset(&b);
	CHECK_INT(fsx_read(path, &b, 0, &err), 0);
	CHECK_STR(buf_cstr(&b), "two!");
	char fresh[256], link_path[256], target[256];
	snprintf(fresh, sizeof fresh, "%s/deep/er/fresh", tmpdir);
	snprintf(link_path, sizeof link_path, "%s/deep/er/link", tmpdir);
	snprintf(target, sizeof target, "%s/deep/er/target", tmpdir);
	mode_t old = umask(077);
	CHECK_INT(fsx_write_new(fresh, "abc", 3, 0640, &err), 0);
	umask(old);
	CHECK(stat(fresh, &st) == 0 && (st.st_mode & 0777) == 0640 && st.st_size == 3);
	CHECK(symlink(target, link_path) == 0);
	CHECK_INT(fsx_write_new(link_path, "abc", 3, 0600, &err), LB_EDATA);
	CHECK(lstat(target, &st) != 0);
	buf_free(&b);
	int fd1, fd2;
	char lock[256];
	snprintf(lock, sizeof lock, "%s/lock", tmpdir);
	CHECK_INT(fsx_lock(lock, false, &fd1, &err), 0);
	/* flock is per open file description: a second open conflicts even in-process. */
	CHECK_INT(fsx_lock(lock, false, &fd2, &err), LB_ETEMP);
	close(fd1);
	CHECK_INT(fsx_lock(lock, false, &fd2, &err), 0);
	close(fd2);
}

static void test_termsafe(void)
{
	static const struct {
		const char *in;
		unsigned flags;
		const char *want;
	} cases[] = {
	    {"plain text, é and 日本", 0, "plain text, é and 日本"},
	    {"hidden \x1b[8mtext\x1b[0m\a", 0, "hidden \\x1b[8mtext\\x1b[0m\\x07"},
	    {"title \x1b]0;pwned\x07", 0, "title \\x1b]0;pwned\\x07"},
	    {"a\tb\nc\rd\x7f", 0, "a\\x09b\\x0ac\\x0dd\\x7f"},
	    {"a\tb\nc\rd", TERM_LINES, "a\tb\nc\\x0dd"},
	    {"Hi \xe2\x80\xaegnp.exe", 0, "Hi <U+202E>gnp.exe"},
	    {"\xe2\x81\xa6x\xe2\x81\xa9 \xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", 0,
	     "<U+2066>x<U+2069> <U+200E><U+200F><U+061C>"},
	    {"line\xe2\x80\xa8sep", 0, "line<U+2028>sep"},
	    {"csi \xc2\x9b"
	     "31m",
	     0, "csi <U+009B>31m"},
	    {"latin1 caf\xe9!", 0, "latin1 caf\\xe9!"},
	    {"\xe2\x80", 0, "\\xe2\\x80"},
	    {"nbsp\xc2\xa0ok \xe2\x80\x94 dash", 0, "nbsp\xc2\xa0ok \xe2\x80\x94 dash"},
	};
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf_reset(&b);
		term_safe(&b, cases[i].in, strlen(cases[i].in), cases[i].flags);
		CHECK_STR(buf_cstr(&b), cases[i].want);
	}
	CHECK_STR(term_str(&b, NULL), "");
	CHECK_STR(term_str(&b, "x\x1by"), "x\\x1by");
	CHECK(!term_unsafe("Maria José"));
	CHECK(term_unsafe("ma\x1b[2Jria"));
	CHECK(term_unsafe("ma\tria"));
	CHECK(term_unsafe("ma\xe2\x80\xaeria"));
	CHECK(term_unsafe("caf\xe9"));
	buf_free(&b);
}

/* A PID that is certainly not running: a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static void touch_file(const char *dir, const char *name, time_t age)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f)
		fclose(f);
	struct timespec ts[2] = {{time(NULL) - age, 0}, {time(NULL) - age, 0}};
	utimensat(AT_FDCWD, path, ts, 0);
}

static bool there(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void test_state_files(void)
{
	char dir[256], name[512], path[512], target[512];
	struct lb_err err = {0};
	snprintf(dir, sizeof dir, "%s/state", tmpdir);
	CHECK_INT(fsx_mkdirs(dir, 0755, &err), 0);

	/* Temp files of killed runs go; a live run's stay; other names stay. */
	long dead = (long)dead_pid(), live = (long)getppid();
	char stale[64], young[64], old_live[64];
	snprintf(stale, sizeof stale, "big.yaml.tmp.%ld", dead);
	snprintf(young, sizeof young, "big.yaml.tmp.%ld", live);
	snprintf(old_live, sizeof old_live, "digest.tmp.%ld", live);
	touch_file(dir, stale, 0);
	touch_file(dir, young, 0);
	touch_file(dir, old_live, 7200); /* an hour old: its PID was reused */
	touch_file(dir, "notes.tmp.x1", 0);
	touch_file(dir, "journal", 7200);
	CHECK_INT(fsx_clean_tmp(dir), 2);
	CHECK(!there(dir, stale));
	CHECK(there(dir, young));
	CHECK(!there(dir, old_live));
	CHECK(there(dir, "notes.tmp.x1") && there(dir, "journal"));
	/* ... and an atomic write removes what a killed run left of the same
	 * file, nothing else (its directory may be anyone's) */
	char mine[64];
	snprintf(mine, sizeof mine, "cursor.tmp.%ld", dead);
	touch_file(dir, mine, 0);
	touch_file(dir, stale, 0);
	snprintf(path, sizeof path, "%s/cursor", dir);
	CHECK_INT(fsx_write_atomic(path, "1 2", 3, 0600, &err), 0);
	CHECK(!there(dir, mine));
	CHECK(there(dir, stale));
	CHECK_INT(fsx_clean_tmp(dir), 1);

	/* A symbolic link in state/ is refused, its target left alone. */
	snprintf(target, sizeof target, "%s/elsewhere", tmpdir);
	write_tmp("elsewhere", "precious\n");
	snprintf(path, sizeof path, "%s/journal.link", dir);
	CHECK(symlink(target, path) == 0);
	int fd = fsx_open_state(path, O_WRONLY | O_APPEND | O_CREAT, 0600, &err);
	CHECK_INT(fd, -1);
	CHECK_INT(err.code, LB_EIO);
	CHECK(strstr(err.msg, "symbolic link") != NULL);
	struct buf b = BUF_INIT;
	CHECK_INT(fsx_read_state(path, &b, 0, &err), LB_EIO);
	CHECK_INT(fsx_read(path, &b, 0, &err), 0); /* site files may be links */
	CHECK_STR(buf_cstr(&b), "precious\n");
	buf_free(&b);
	snprintf(name, sizeof name, "%s/lock.link", dir);
	CHECK(symlink(target, name) == 0);
	CHECK_INT(fsx_lock(name, false, &fd, &err), LB_EIO);

	/* A state directory open to others is tightened (ours) or refused. */
	struct stat st;
	CHECK(chmod(dir, 0755) == 0);
	CHECK_INT(fsx_state_dir(dir, &err), 0);
	CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	if (geteuid() == 0) {
		CHECK(chmod(dir, 0750) == 0 && chown(dir, 65534, 65534) == 0);
		CHECK_INT(fsx_state_dir(dir, &err), LB_ENOPERM);
		CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0750);
		CHECK(chown(dir, 0, 0) == 0);
	}
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/lbcore.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 2;
	RUN(test_time_parse);
	RUN(test_time_parse_arithmetic);
	RUN(test_time_zones);
	RUN(test_termsafe);
	RUN(test_tokens);
	RUN(test_config_good);
	RUN(test_config_errors);
	RUN(test_atomic_write);
	RUN(test_state_files);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 2;
	return harness_done("core");
}
