#!/usr/bin/env python3
"""Sign up in a real browser (headless Chromium through chromedriver):
the form, the confirmation mail read from the Maildir outbox, its link
followed, the button; then the unsubscribe link of the newsletter
(UNSUB_URL: /u/TOKEN of the address signed up), its button, and the
re-subscribe button (a form posted from our no-referrer page: "Origin:
null", let through by Sec-Fetch-Site).  Prints one "ok"/"FAIL" line per
check.

    subscribe.py BASE_URL OUTBOX SHOT_DIR UNSUB_URL
"""
import email
import glob
import os
import re
import sys

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

base, outbox, shots, unsub = sys.argv[1:5]
failed = 0


def check(what, ok):
    global failed
    print(("  ok   " if ok else "  FAIL ") + what)
    failed += not ok


def viewport(d, width, height):
    # headless windows have a minimum width; the emulated viewport has none
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1,
                       "mobile": width < 600})


def browser(width):
    o = Options()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--hide-scrollbars", "--window-size=1024,900"):
        o.add_argument(a)
    o.binary_location = "/usr/bin/chromium"
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    d.lb_width = width
    viewport(d, width, 900)
    return d


def submit(d):
    """Press the page's button and wait for the next page."""
    old = d.find_element(By.TAG_NAME, "html")
    d.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    def gone(_):
        # Chromium may answer a check on a node of the page being replaced
        # with "does not belong to the document" instead of a stale
        # element: that, too, means the next page is there.
        try:
            return EC.staleness_of(old)(d)
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return True
            raise

    WebDriverWait(d, 20).until(gone)


def shot(d, name):
    # the page's full height, so nothing is cut off
    viewport(d, d.lb_width, 600)
    h = d.execute_script("return document.documentElement.scrollHeight")
    viewport(d, d.lb_width, max(h, 300))
    d.save_screenshot(os.path.join(shots, name))


d = browser(375)
try:
    d.get(base + "/subscribe")
    shot(d, "subscribe-375.png")
    check("the form is there", d.find_element(By.ID, "email").is_displayed())
    hp = d.find_element(By.ID, "website")
    check("the honeypot is not visible", not hp.is_displayed())
    inside = d.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return r.right > 0 && r.left < innerWidth",
        hp)
    check("  nor on the screen", not inside)
    check("the page is 375 px wide", d.execute_script("return innerWidth") == 375)
    check("no horizontal scrolling at 375 px",
          d.execute_script("return document.documentElement.scrollWidth <= innerWidth"))
    d.find_element(By.ID, "email").send_keys("browser@example.org")
    d.find_element(By.ID, "name").send_keys("Bo Wser")
    submit(d)
    check("the request is answered", "Check your inbox" in d.find_element(By.TAG_NAME, "h1").text)

    mails = [p for p in glob.glob(os.path.join(outbox, "new", "*"))
             if "browser@example.org" in open(p, errors="replace").read()]
    check("a confirmation mail in the outbox", len(mails) == 1)
    link = None
    for p in email.message_from_binary_file(open(mails[0], "rb")).walk():
        if p.get_content_type() == "text/plain":
            m = re.search(r"(\S+/confirm/[A-Za-z0-9._~-]+)", p.get_payload(decode=True).decode())
            link = m and m.group(1)
    check("  with a link", bool(link))
    d.get(link)
    check("the link shows a button", d.find_element(By.CSS_SELECTOR, "button").is_displayed())
    submit(d)
    check("the button subscribes", "You are subscribed" in d.find_element(By.TAG_NAME, "h1").text)
    shot(d, "confirmed-375.png")

    d.get(unsub)
    check("the unsubscribe link shows a button",
          d.find_element(By.CSS_SELECTOR, "button[type=submit]").text == "Unsubscribe")
    submit(d)
    check("the button unsubscribes", "You are unsubscribed" in d.find_element(By.TAG_NAME, "h1").text)
    shot(d, "unsubscribed-375.png")
    submit(d)
    check("the re-subscribe button works from our own page",
          "You are subscribed again" in d.find_element(By.TAG_NAME, "h1").text)
finally:
    d.quit()

# the same pages at a desktop width, for the README
d = browser(1024)
try:
    d.get(base + "/subscribe")
    shot(d, "subscribe.png")
    d.get(link)
    submit(d)
    check("confirming again is fine", "You are subscribed" in d.find_element(By.TAG_NAME, "h1").text)
    shot(d, "confirmed.png")
    d.get(unsub)
    submit(d)
    check("unsubscribed at 1024 px too", "You are unsubscribed" in d.find_element(By.TAG_NAME, "h1").text)
    shot(d, "unsubscribed.png")
finally:
    d.quit()
sys.exit(1 if failed else 0)
