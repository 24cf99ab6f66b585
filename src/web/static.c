/* What every site serves the same: the stylesheet and the home page. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsx.h"
#include "core/log.h"
#include "web/routes.h"

/* The pages' look: the newsletter's fonts and colours (compose/style.c),
 * readable on a phone, nothing that needs a script. */
static const char css[] =
    ":root{--ink:#333333;--accent:#2f5d58;--muted:#6b6b6b;--line:#dddddd;--bg:#f6f5f1}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--ink);"
    "font:17px/1.6 -apple-system,BlinkMacSystemFont,\"Segoe UI\",Roboto,Helvetica,Arial,"
    "sans-serif}\n"
    "header,main,footer{max-width:40rem;margin:0 auto;padding:1rem 1.25rem}\n"
    "header{padding-top:1.5rem}\n"
    "header a.site{color:var(--accent);font-weight:bold;text-decoration:none;"
    "font-size:1.1rem}\n"
    "main{background:#fff;border:1px solid var(--line);border-radius:6px;padding:1.5rem "
    "1.25rem 1.75rem}\n"
    "h1{color:var(--accent);font-size:1.6rem;line-height:1.3;margin:0 0 1rem}\n"
    "h2{color:var(--accent);font-size:1.25rem;margin:1.5rem 0 .5rem}\n"
    "a{color:var(--accent)}\n"
    "p{margin:0 0 1rem}\n"
    "footer{color:var(--muted);font-size:.85rem;text-align:center}\n"
    "form{margin:1rem 0 0}\n"
    "label{display:block;font-weight:600;margin:0 0 .25rem}\n"
    "input[type=email],input[type=text],select,textarea{width:100%;font:inherit;"
    "padding:.5rem .6rem;border:1px solid #b9b9b9;border-radius:4px;margin:0 0 1rem;"
    "background:#fff;color:inherit}\n"
    "button{font:inherit;font-weight:600;color:#fff;background:var(--accent);border:0;"
    "border-radius:4px;padding:.6rem 1.2rem;cursor:pointer}\n"
    "button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #9cc3bd;"
    "outline-offset:1px}\n"
    ".hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}\n"
    ".note{color:var(--muted);font-size:.9rem}\n"
    ".address{font-weight:600;word-break:break-all}\n"
    "ul.archive{list-style:none;padding:0;margin:0}\n"
    "ul.archive li{padding:.6rem 0;border-top:1px solid var(--line)}\n"
    "ul.archive li:first-child{border-top:0}\n"
    ".date{color:var(--muted);font-size:.9rem;display:block}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);"
    "vertical-align:top}\n"
    /* subscribe.c: the sign-up form and its answers */
    ".problem{color:#8a1f11;background:#fbeae7;border-left:4px solid #c0392b;"
    "padding:.5rem .75rem}\n"
    ".consent{color:var(--muted);font-size:.9rem}\n"
    /* the archive (archive.c): a newsletter's content without its inline styles */
    ".summary{display:block;margin:.1rem 0 0}\n"
    ".article blockquote,blockquote.closing{margin:0 0 1rem;padding:.25rem 0 .25rem 1rem;"
    "border-left:3px solid #9dbfb3;color:#4f5a56}\n"
    "blockquote.closing{background:#f3f7f5;padding:1rem 1.25rem;font-style:italic}\n"
    "blockquote.closing .signature{font-style:normal;color:var(--accent);margin:0}\n"
    ".article pre{background:#f5f3ee;border:1px solid #ebe6dc;padding:.8rem 1rem;"
    "white-space:pre-wrap;overflow-wrap:break-word;font-size:.85rem}\n"
    ".article code{background:#f5f3ee;padding:0 .25rem;font-size:.9em}\n"
    ".article pre code{padding:0}\n"
    ".article hr{border:0;border-top:1px solid var(--line);margin:2rem 0}\n"
    ".article h3{font-size:1.1rem;margin:1.25rem 0 .5rem}\n"
    ".article h4{font-size:.95rem;text-transform:uppercase;letter-spacing:.03em;"
    "margin:1rem 0 .5rem}\n"
    ".article li{margin:0 0 .4rem}\n"
    ".article a{overflow-wrap:anywhere}\n"
    ".article h1{font-size:1.35rem;margin:1.5rem 0 .5rem}\n"
    "ul.archive li>a{font-weight:600}\n"
    "ul.archive .summary{font-size:.95rem}\n"
    "ul.archive+.note{border-top:1px solid var(--line);padding-top:1rem;margin-top:.5rem}\n"
    /* staff pages (web/staff*.c) */
    "nav.staff{display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:0 0 1rem;"
    "padding:0 0 .75rem;border-bottom:1px solid var(--line)}\n"
    "nav.staff .who{color:var(--muted);font-size:.9rem;margin-left:auto}\n"
    "ul.counts{list-style:none;padding:0;margin:0 0 1rem;display:flex;flex-wrap:wrap;"
    "gap:.5rem}\n"
    "ul.counts a{display:inline-block;padding:.2rem .6rem;border:1px solid var(--line);"
    "border-radius:4px;text-decoration:none}\n"
    "form.filters{display:flex;flex-wrap:wrap;gap:0 1rem;align-items:flex-end}\n"
    "form.filters div{flex:1 1 10rem}\n"
    "form.filters .check{display:flex;gap:.4rem;align-items:center;margin:0 0 1rem}\n"
    "form.filters .check label{display:inline;margin:0}\n"
    "form.filters button{margin:0 0 1rem}\n"
    "ol.inq{list-style:none;padding:0;margin:0}\n"
    "ol.inq li{padding:.75rem 0;border-top:1px solid var(--line)}\n"
    "ol.inq li.urgent{border-left:4px solid #a3271f;padding-left:.6rem}\n"
    "ol.inq a.subject{font-weight:600;display:block;overflow-wrap:anywhere}\n"
    ".meta{color:var(--muted);font-size:.9rem;display:block;overflow-wrap:anywhere}\n"
    ".badge{display:inline-block;background:#a3271f;color:#fff;font-size:.8rem;"
    "font-weight:700;padding:0 .4rem;border-radius:3px;text-transform:uppercase}\n"
    "form.f-take{margin:.4rem 0 0}\n"
    "form.f-take button{padding:.3rem .9rem;font-size:.9rem}\n"
    ".vh{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}\n"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;"
    "margin:0 0 1rem}\n"
    "dl.facts dt{font-weight:600}\n"
    "dl.facts dd{margin:0;overflow-wrap:anywhere}\n"
    ".addr{color:var(--muted);overflow-wrap:anywhere}\n"
    "article.message{border:1px solid var(--line);border-radius:6px;padding:.75rem;"
    "margin:0 0 1rem}\n"
    "article.message.ours{background:var(--bg)}\n"
    "article.message h3{font-size:1rem;margin:0 0 .5rem}\n"
    "article.message time,ul.history time{color:var(--muted);font-weight:normal;"
    "font-size:.9rem}\n"
    ".msg{white-space:pre-wrap;overflow-wrap:anywhere;margin:0 0 .5rem}\n"
    ".msg.preview{border-left:4px solid var(--accent);padding-left:.75rem}\n"
    "ul.att{padding-left:1.2rem;margin:0;overflow-wrap:anywhere}\n"
    "ul.history{padding-left:1.2rem;overflow-wrap:anywhere}\n"
    "ul.history .by{font-weight:600}\n"
    "button.second{background:#fff;color:var(--accent);border:2px solid var(--accent)}\n"
    ".buttons{display:flex;flex-wrap:wrap;gap:.5rem}\n";

/* GET /static/letterbox.css: ours, then the site's templates/page.css when
 * it has one (its rules come later, so they win). */
void web_get_css(struct web *w)
{
	w->resp->content_type = "text/css; charset=utf-8";
	web_header(w, "Cache-Control", "public, max-age=3600");
	buf_add(&w->resp->body, css, sizeof css - 1);
	char *path = config_path(w->cfg, "templates/page.css");
	struct buf site = BUF_INIT;
	struct lb_err err = {0};
	int rc = fsx_read(path, &site, 1 << 20, &err);
	if (rc == 0)
		buf_addspan(&w->resp->body, buf_span(&site));
	else if (rc != LB_ENOINPUT)
		log_warn("%s", err.msg);
	buf_free(&site);
	free(path);
}

/* GET /: where a visitor who typed the base address can go. */
void web_get_home(struct web *w)
{
	struct buf b = BUF_INIT;
	char *sub = web_link(w, "/subscribe");
	buf_adds(&b, "<p><a href=\"");
	web_html(&b, sub);
	buf_adds(&b, "\">Subscribe to the newsletter</a></p>\n");
	if (w->cfg->web_archive) {
		char *arch = web_link(w, "/archive/");
		buf_adds(&b, "<p><a href=\"");
		web_html(&b, arch);
		buf_adds(&b, "\">Read past newsletters</a></p>\n");
		free(arch);
	}
	free(sub);
	web_page(w, 200, "Newsletter", buf_cstr(&b));
	buf_free(&b);
}
