#!/usr/bin/env python3
"""A fake Calibre-Web OPDS feed for bench/run.sh: `fake_opds.py PORT BOOKS PER_PAGE`.

Serves `/cw/opds/new?offset=N` (pages of PER_PAGE entries, `rel="next"` to the end, the
shape of Calibre-Web 0.6's feed: root-relative hrefs, cover and acquisition links), built
once in memory, on 127.0.0.1 only, without authentication. Anything else is 404.
"""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PORT, BOOKS, PER_PAGE = (int(a) for a in sys.argv[1:4])
SUBJECTS = ["Mathematics", "Physics", "Computer Science", "Chemistry", "History"]


def entry(n):
    s = SUBJECTS[n % len(SUBJECTS)]
    return f"""  <entry>
    <title>Bench Book {n}: Foundations of {s}</title>
    <id>urn:uuid:bench-{n}</id>
    <author><name>Author {n % 97}</name></author>
    <published>2024-01-{n % 28 + 1:02d}T00:00:00+00:00</published>
    <dc:language>en</dc:language>
    <category term="{s}" label="{s}"/>
    <summary type="html">&lt;p&gt;An introduction to {s.lower()}, volume {n}.&lt;/p&gt;</summary>
    <link type="image/jpeg" href="/cw/opds/cover/{n}" rel="http://opds-spec.org/image"/>
    <link type="image/jpeg" href="/cw/opds/cover/{n}" rel="http://opds-spec.org/image/thumbnail"/>
    <link rel="http://opds-spec.org/acquisition" href="/cw/opds/download/{n}/epub/"
          length="100000" title="EPUB" type="application/epub+zip"/>
  </entry>
"""


PAGES = {}
for offset in range(0, max(BOOKS, 1), PER_PAGE):
    end = min(offset + PER_PAGE, BOOKS)
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/terms/">\n'
        "  <id>urn:uuid:bench</id>\n  <title>New Books</title>\n"
    )
    if end < BOOKS:
        head += f'  <link rel="next" href="/cw/opds/new?offset={end}" type="application/atom+xml"/>\n'
    PAGES[offset] = (head + "".join(entry(n) for n in range(offset + 1, end + 1)) + "</feed>\n").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        u = urlsplit(self.path)
        body = None
        if u.path == "/cw/opds/new":
            try:
                offset = int(parse_qs(u.query).get("offset", ["0"])[0])
            except ValueError:
                offset = -1
            body = PAGES.get(offset)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
