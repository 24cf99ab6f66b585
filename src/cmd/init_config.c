/* The configuration `letterbox init` writes: one table, one line per key, so
 * that a new key is one new row (and README "Configuration" says the same). */
#include "cmd/init_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/fsx.h"
#include "core/mem.h"

enum {
	RAW = 1,      /* the value is YAML as it stands (a boolean, a duration, a list) */
	OFF = 2,      /* written commented out: the default is fine, or it needs a server */
	WITH_URL = 4, /* commented out unless --url was given */
	LIST = 8,     /* the value is the one string in a list */
	NEW = 16,     /* a key this letterbox does not read yet: always commented out */
	ALT = 32,     /* the other way to say the row before (not both at once) */
	WITH_TZ = 64  /* commented out unless --timezone was given */
};

/* KEY is dotted: its depth is its indentation; a NULL VALUE is a section,
 * commented out when each of its keys is.  $name $from $fromname $local
 * $domain $postal_address $url $timezone are the flags' values, or
 * placeholders; $label is $local made a DNS label for list_id. */
static const struct init_key {
	const char *key, *value;
	unsigned flags;
	const char *help;
} keys[] = {
    {"site", NULL, 0, "Who publishes: shown in every newsletter's footer."},
    {"site.name", "$name", 0, "the name readers know you by"},
    {"site.url", "$url", WITH_URL, "your web site, linked from every newsletter"},
    {"site.postal_address", "$postal_address", 0,
     "your postal address: the law (CAN-SPAM, PECR) wants it in every message"},
    {"site.lang", "en", RAW, "the language articles are written in (HTML lang)"},
    {"site.article_url", "$urlarticles/{slug}/", OFF,
     "where an article is on the web; {slug} is its file name without date"},
    {"site.timezone", "$timezone", WITH_TZ,
     "the zone times are shown and read in, e.g. America/Los_Angeles (default: the machine's)"},
    {"from", "$from", 0, "who newsletters are from: \"Name <address>\""},
    {"reply_to", "$fromname <$local+{token}@$domain>", 0,
     "where replies go; {token} tells poll who wrote (the mailbox must take LOCAL+anything)"},
    {"list_id", "$label.$domain", 0, "the list's name in List-Id: a domain-like name"},
    {"unsubscribe", NULL, 0, "How a reader leaves: in every message's List-Unsubscribe."},
    {"unsubscribe.mailto", "unsubscribe+{token}@$domain", 0,
     "an address that reaches the incoming mailbox below"},
    {"unsubscribe.url", "$urlnews/u/{token}", OFF,
     "the https:// one-click page (RFC 8058); default {web.url}/u/{token}"},
    {"bounce_to", "bounces+{token}@$domain", OFF,
     "the envelope sender, so a bounce names its recipient (VERP)"},
    {"outgoing", NULL, 0, "Where newsletters go.  maildir:outbox keeps them in ./outbox to read."},
    {"outgoing.url", "maildir:outbox", 0, "or smtps://smtp.example.org, smtp://host:587"},
    {"outgoing.username", "news@$domain", OFF, "the SMTP login"},
    {"outgoing.password_file", "/etc/letterbox/smtp.password", OFF,
     "a file (mode 0600) holding the password"},
    {"outgoing.password_env", "LETTERBOX_SMTP_PASSWORD", OFF | ALT,
     "or the environment variable that holds it"},
    {"outgoing.tls", "required", RAW | OFF, "required (TLS, verified) or none (loopback only)"},
    {"outgoing.ca_file", "/etc/letterbox/ca.pem", OFF, "the CA of a server with a private CA"},
    {"outgoing.connections", "4", RAW | OFF, "SMTP connections at once"},
    {"outgoing.rate", "20/s", RAW | OFF, "at most this many messages per second (/min, /h)"},
    {"outgoing.timeout", "60s", RAW | OFF, "how long the server may keep us waiting, per step"},
    {"incoming", NULL, 0, "Where replies, bounces and unsubscribes are read."},
    {"incoming.url", "maildir:inbox", 0, "or imaps://imap.example.org/INBOX"},
    {"incoming.username", "news@$domain", OFF, "the IMAP login"},
    {"incoming.password_file", "/etc/letterbox/imap.password", OFF,
     "a file (mode 0600) holding the password"},
    {"incoming.password_env", "LETTERBOX_IMAP_PASSWORD", OFF | ALT,
     "or the environment variable that holds it"},
    {"incoming.tls", "required", RAW | OFF, "required (TLS, verified) or none (loopback only)"},
    {"incoming.ca_file", "/etc/letterbox/ca.pem", OFF, "the CA of a server with a private CA"},
    {"incoming.folders", NULL, OFF, "IMAP folders poll moves what it filed to (each optional)"},
    {"incoming.folders.inquiries", "Inquiries", OFF, "replies from people"},
    {"incoming.folders.bounces", "Bounces", OFF, "bounces and complaints"},
    {"incoming.folders.auto_replies", "Auto-replies", OFF, "out-of-office and the like"},
    {"incoming.folders.unsubscribes", "Unsubscribes", OFF, "unsubscribe requests"},
    {"incoming.folders.failed", "Failed", OFF, "what could not be read"},
    {"incoming.max_size", "25MB", RAW | OFF, "a larger message is filed without its body"},
    {"incoming.timeout", "60s", RAW | OFF, "how long the server may keep us waiting"},
    {"incoming.sent", "Sent", OFF, "the staff's Sent folder: replies from a mail client are filed"},
    {"send", NULL, 0, "When articles go out."},
    {"send.catch_up", "3d", RAW, "an article at most this late is still sent"},
    {"send.give_up", "3d", RAW, "a recipient deferred this long is given up"},
    {"send.test_prefix", "[TEST] ", OFF, "the subject's prefix in a `send --to ADDR` test"},
    {"staff", NULL, 0, "Who hears of inquiries: a list of \"Name <address>\" each."},
    {"staff.digest_to", "$from", LIST, "the digest of inquiries waiting (letterbox digest)"},
    {"staff.urgent_to", "$from", LIST, "an alert for each urgent inquiry"},
    {"triage", NULL, 0, "What poll does with an inquiry."},
    {"triage.acknowledge", "false", RAW,
     "true: answer each new inquiry with templates/acknowledgement.txt"},
    {"triage.crisis_line", "Call 911 (in the US) or your local emergency number", OFF,
     "where a person in danger should turn, in your country ({{site.crisis_line}})"},
    {"triage.urgent_words", "[\"want to disappear\"]", RAW | OFF,
     "your own phrases that make an inquiry urgent (check --urgent-words)"},
    {"triage.urgent_languages", "[en, es]", RAW | OFF,
     "the built-in crisis phrases' languages (default: all)"},
    {"triage.alert_body", "false", RAW | OFF, "true: urgent alerts carry the message text"},
    {"web", NULL, 0, "The web side: `letterbox cgi` behind your web server (README)."},
    {"web.url", "$urlnews", WITH_URL,
     "where the web server runs letterbox cgi: one-click unsubscribe, sign-up, archive"},
    {"web.consent", "I agree to receive the newsletter and can leave at any time.", OFF,
     "what a person agrees to on the sign-up form (kept with their consent record)"},
    {"web.archive", "true", RAW | OFF, "false: no public archive of sent newsletters"},
    {"web.staff", "[reception]", RAW | OFF,
     "who may use /staff/ (the web server's login names; default: anyone it lets in)"},
    {"subscribe", NULL, 0, "Signing up by mail."},
    {"subscribe.mailto", "subscribe+{list}@$domain", OFF,
     "mail to this address asks to join list {list}; poll sends the confirmation"},
    {"dkim", NULL, OFF, "Sign every mail (DKIM) when your relay does not: letterbox dkim keygen."},
    {"dkim.selector", "news", OFF, "the selector: the key is published at SELECTOR._domainkey"},
    {"dkim.key_file", "state/dkim-news.pem", OFF, "the private key (PEM, mode 0600)"},
    {"dkim.algorithm", "ed25519-sha256", RAW | OFF, "rsa-sha256 (the default) or ed25519-sha256"},
    {"dkim.domain", "$domain", OFF, "the signing domain (default: the From address's)"},
    {"compose", NULL, OFF, "How articles become mail."},
    {"compose.allow_html", "false", RAW | OFF, "true: raw HTML in an article is kept"},
    {"styles", NULL, OFF, "CSS for the newsletter's elements, over templates/newsletter.html's."},
    {"styles.a", "color: #1a5f7a", OFF, "links, for example"},
};

/* The values $NAME stands for. */
struct vars {
	char *name, *from, *fromname, *local, *label, *domain, *postal, *url, *tz;
};

/* The local part as list_id's first label: config.c takes only letters,
 * digits, '.' and '-' there ("news+nl" -> "news-nl", quotes dropped). */
static char *list_label(const char *local)
{
	struct buf b = BUF_INIT;
	for (const char *p = local; *p; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-')
			buf_addc(&b, *p);
		else if (*p != '"')
			buf_addc(&b, '-');
	if (!b.n)
		buf_adds(&b, "news");
	return buf_take(&b);
}

/* A display name as it goes before <address>: quoted when it has a special. */
static char *display_name(const char *s)
{
	if (!strpbrk(s, "()<>[]:;@\\,.\""))
		return xstrdup(s);
	struct buf b = BUF_INIT;
	buf_addc(&b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addc(&b, '\\');
		buf_addc(&b, *s);
	}
	buf_addc(&b, '"');
	return buf_take(&b);
}

static void vars_init(struct vars *x, const struct init_values *v)
{
	struct addr a = {0};
	struct lb_err err;
	bool from = v->from && addr_parse(span_cstr(v->from), &a, &err) == 0;
	x->name = xstrdup(v->name ? v->name : INIT_PLACEHOLDER " your organisation");
	x->fromname = display_name(from && a.display ? a.display : x->name);
	x->local = xstrdup(from ? a.local : "news");
	x->label = list_label(x->local);
	x->domain = xstrdup(from ? a.domain : INIT_PLACEHOLDER ".example.org");
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s <%s@%s>", x->fromname, x->local, x->domain);
	x->from = buf_take(&b);
	x->postal = xstrdup(v->postal_address ? v->postal_address
					      : INIT_PLACEHOLDER
				" (your postal address, shown in every footer)");
	const char *url = v->url ? v->url : "https://www.example.org/";
	buf_printf(&b, "%s%s", url, url[strlen(url) - 1] == '/' ? "" : "/");
	x->url = buf_take(&b);
	x->tz = xstrdup(v->timezone ? v->timezone : "Europe/London");
	addr_free(&a);
}

static void vars_free(struct vars *x)
{
	free(x->name);
	free(x->from);
	free(x->fromname);
	free(x->local);
	free(x->label);
	free(x->domain);
	free(x->postal);
	free(x->url);
	free(x->tz);
}

static void expand(const struct vars *x, const char *pat, struct buf *out)
{
	static const struct {
		const char *name;
		size_t off;
	} names[] = {
	    /* Longest first: $fromname before $from. */
	    {"$fromname", offsetof(struct vars, fromname)},
	    {"$from", offsetof(struct vars, from)},
	    {"$name", offsetof(struct vars, name)},
	    {"$local", offsetof(struct vars, local)},
	    {"$label", offsetof(struct vars, label)},
	    {"$domain", offsetof(struct vars, domain)},
	    {"$postal_address", offsetof(struct vars, postal)},
	    {"$url", offsetof(struct vars, url)},
	    {"$timezone", offsetof(struct vars, tz)},
	};
	for (const char *p = pat; *p;) {
		size_t i = 0;
		while (i < sizeof names / sizeof names[0] &&
		       strncmp(p, names[i].name, strlen(names[i].name)) != 0)
			i++;
		if (i == sizeof names / sizeof names[0]) {
			buf_addc(out, *p++);
			continue;
		}
		buf_adds(out, *(char *const *)((const char *)x + names[i].off));
		p += strlen(names[i].name);
	}
}

static void yaml_quoted(struct buf *out, const char *s)
{
	buf_addc(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addc(out, '\\');
		buf_addc(out, *s);
	}
	buf_addc(out, '"');
}

static size_t depth(const char *key)
{
	size_t d = 0;
	for (; *key; key++)
		d += *key == '.';
	return d;
}

/* A row is written commented out when it says so, or it is a section none
 * of whose keys is written. */
static bool row_off(size_t i, const struct init_values *v, bool all)
{
	const struct init_key *k = &keys[i];
	if (all)
		return k->flags & (NEW | ALT);
	if ((k->flags & OFF) || ((k->flags & WITH_URL) && !v->url) ||
	    ((k->flags & WITH_TZ) && !v->timezone))
		return true;
	if (k->value)
		return false;
	size_t klen = strlen(k->key);
	for (size_t j = i + 1; j < sizeof keys / sizeof keys[0]; j++) {
		if (strncmp(keys[j].key, k->key, klen) != 0 || keys[j].key[klen] != '.')
			break;
		if (keys[j].value && !row_off(j, v, all))
			return false;
	}
	return true;
}

void init_config_write(const struct init_values *v, bool all, struct buf *out)
{
	struct vars x;
	vars_init(&x, v);
	buf_adds(out, "# letterbox.yaml, written by `letterbox init`.  A key commented out has\n"
		      "# the value shown or none; `man 5 letterbox.yaml` says more.  Run\n"
		      "# `letterbox check` after each edit: it names every " INIT_PLACEHOLDER
		      " left.\n");
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct init_key *k = &keys[i];
		size_t d = depth(k->key);
		const char *leaf = strrchr(k->key, '.');
		leaf = leaf ? leaf + 1 : k->key;
		bool off = row_off(i, v, all);
		if (d == 0)
			buf_addc(out, '\n');
		for (size_t s = 0; s < d; s++)
			buf_adds(out, "  ");
		buf_printf(out, "# %s\n", k->help);
		for (size_t s = 0; s < d; s++)
			buf_adds(out, "  ");
		buf_printf(out, "%s%s:", off ? "# " : "", leaf);
		if (k->value) {
			struct buf val = BUF_INIT;
			expand(&x, k->value, &val);
			buf_addc(out, ' ');
			if (k->flags & RAW) {
				buf_adds(out, buf_cstr(&val));
			} else {
				buf_adds(out, k->flags & LIST ? "[" : "");
				yaml_quoted(out, buf_cstr(&val));
				buf_adds(out, k->flags & LIST ? "]" : "");
			}
			buf_free(&val);
		}
		buf_addc(out, '\n');
	}
	vars_free(&x);
}

size_t init_placeholders(const char *file, const char *text,
			 void (*report)(void *ctx, const char *msg), void *ctx)
{
	size_t n = 0, line = 1;
	for (const char *p = text; *p; line++) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *hash = memchr(p, '#', len);
		const char *hit = NULL;
		for (const char *q = p; q + sizeof INIT_PLACEHOLDER - 1 <= p + len && !hit; q++)
			if (memcmp(q, INIT_PLACEHOLDER, sizeof INIT_PLACEHOLDER - 1) == 0)
				hit = q;
		/* A '#' before it is a comment (init's values have none before one). */
		if (hit && !(hash && hash < hit)) {
			const char *k = p;
			while (k < hit && (*k == ' ' || *k == '-'))
				k++;
			const char *colon = memchr(k, ':', (size_t)(hit - k));
			struct buf msg = BUF_INIT;
			buf_printf(&msg, "%s:%zu:%zu: ", file, line, (size_t)(hit - p) + 1);
			if (colon)
				buf_printf(&msg, "'%.*s' ", (int)(colon - k), k);
			buf_adds(&msg, "still holds the placeholder " INIT_PLACEHOLDER
				       ": fill in your own value");
			report(ctx, buf_cstr(&msg));
			buf_free(&msg);
			n++;
		}
		p = end ? end + 1 : p + len;
	}
	return n;
}

size_t init_placeholders_file(const char *path, void (*report)(void *ctx, const char *msg),
			      void *ctx)
{
	struct buf text = BUF_INIT;
	struct lb_err err = {0};
	size_t n = fsx_read(path, &text, 1 << 20, &err)
		       ? 0
		       : init_placeholders(path, buf_cstr(&text), report, ctx);
	buf_free(&text);
	return n;
}
