#!/bin/sh
# letterbox.cgi: the program the web server runs for /news/ (README "The web
# side").  letterbox answers one request (CGI/1.1) and exits; -C names the
# site.  For Apache with suexec, which clears the environment and refuses
# links; lighttpd and nginx + fcgiwrap run letterbox itself through a link
# named letterbox.cgi, the site in LETTERBOX_SITE (one exec fewer).  Install
# it with the two paths filled in, owned by the site's user, mode 755:
#   sed -e 's|@LETTERBOX@|/usr/local/bin/letterbox|' -e 's|@SITE@|/srv/news|' \
#       contrib/letterbox.cgi >/usr/local/lib/letterbox/letterbox.cgi
exec "@LETTERBOX@" -C "@SITE@" cgi
