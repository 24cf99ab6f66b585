#!/usr/bin/python3
"""A receptionist's morning in headless Chromium, driven over the DevTools
protocol (a minimal WebSocket client, standard library only).

    cdp.py DEVTOOLS_PORT BASE_URL_WITH_CREDENTIALS SHOT_DIR

Clicks as a person would on the staff pages (no JavaScript in the pages:
the protocol fills fields and submits forms): open the list, take the urgent
inquiry, read it, add a note, preview a reply and send it, close another.
Prints one line per step; exits 1 at the first step that does not work."""
import base64, json, os, socket, struct, sys, time, urllib.request

port, base, shots = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class WS:
    def __init__(self, url):
        host, path = url[len("ws://"):].split("/", 1)
        h, p = host.split(":")
        self.s = socket.create_connection((h, int(p)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET /{path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        resp = b""
        while b"\r\n\r\n" not in resp:
            resp += self.s.recv(1)
        assert b" 101 " in resp.split(b"\r\n")[0], resp
        self.n = 0

    def send(self, text):
        data = text.encode()
        head = bytes([0x81])
        if len(data) < 126:
            head += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", len(data))
        mask = os.urandom(4)
        self.s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def exact(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError
            b += c
        return b

    def recv(self):
        msg = b""
        while True:
            b0, b1 = self.exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self.exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self.exact(8))[0]
            msg += self.exact(n)
            if b0 & 0x80:
                return msg.decode()

    def call(self, method, **params):
        self.n += 1
        self.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            m = json.loads(self.recv())
            if m.get("id") == self.n:
                if "error" in m:
                    raise RuntimeError(m["error"])
                return m.get("result", {})


for _ in range(100):
    try:
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = [t for t in targets if t["type"] == "page"][0]
        break
    except Exception:
        time.sleep(0.1)
ws = WS(page["webSocketDebuggerUrl"])
ws.call("Page.enable")


def js(expr):
    r = ws.call("Runtime.evaluate", expression=expr, returnByValue=True)
    return r.get("result", {}).get("value")


def settle(before):
    """Until a new document has loaded after an action."""
    for _ in range(200):
        time.sleep(0.05)
        if js("document.readyState") == "complete" and js("window.__mark") is None:
            return
    raise RuntimeError("no page after the action")


def go(path):
    js("window.__mark = 1")
    ws.call("Page.navigate", url=base + path)
    settle(None)


def act(expr):
    js("window.__mark = 1")
    js(expr)
    settle(1)


def step(name, ok):
    print(("  ok   " if ok else "  FAIL ") + name)
    if not ok:
        print("    at %s: %s" % (js("location.href"), (js("document.body && document.body.innerText") or "")[:300].replace("\n", " | ")))
        sys.exit(1)


def shot(name):
    data = ws.call("Page.captureScreenshot", format="png")["data"]
    open(os.path.join(shots, name), "wb").write(base64.b64decode(data))


go("/staff/")
step("browser: the list opens", js("document.querySelector('h1').textContent") == "Inquiries")
first = js("document.querySelector('ol.inq li a.subject').textContent")
step("browser: the urgent one is first", "Urgent" in first)
act("document.querySelector('ol.inq li form.f-take button').click()")
step("browser: take it (back to the list)", js("location.pathname").endswith("/staff/"))
step("browser: now assigned to me",
     "assigned to frontdesk" in js("document.querySelector('ol.inq li .meta').textContent"))
act("document.querySelector('ol.inq li a.subject').click()")
step("browser: read it", js("document.querySelector('.msg') !== null"))
act("document.querySelector('#n-text').value = 'Called back, left a message';"
    "document.querySelector('form.f-note button').click()")
step("browser: a note", "Called back, left a message" in js("document.querySelector('ul.history').textContent"))
act("document.querySelector('#r-body').value = 'Dear Pat,\\n\\nwe will call you today.';"
    "document.querySelector('form.f-reply button[name=preview]').click()")
step("browser: the preview", "we will call you today." in js("document.querySelector('.msg.preview').textContent"))
act("document.querySelector('form.f-reply button:not([name])').click()")
step("browser: sent", "reply: copy 1 sent" in js("document.querySelector('ul.history').textContent"))
go("/staff/?status=new")
act("document.querySelectorAll('ol.inq li a.subject')[0].click()")
act("document.querySelector('#s-status').value = 'closed';"
    "document.querySelector('form.f-set button').click()")
step("browser: another closed", "new -> closed" in js("document.querySelector('ul.history').textContent"))
shot("morning-end.png")
