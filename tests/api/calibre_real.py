# Helper for tests/api/calibre_real.rs, run with the Calibre-Web venv's python (it has
# werkzeug). Two commands:
#   books DIR N              write N tiny valid EPUB 2 files DIR/book-<i>.epub
#   configure APP_DB LIB PORT PER_PAGE USER...
#                            point Calibre-Web's settings at the library, port and page
#                            size, turn reverse-proxy header login on (X-Remote-User), and
#                            create each USER as a viewer/downloader with an unusable password
import os
import secrets
import sqlite3
import struct
import sys
import zipfile
import zlib


def png(rgb):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    w = h = 16
    raw = b"".join(b"\0" + bytes(rgb) * w for _ in range(h))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>
"""

OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="bookid">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
    <dc:title>{title}</dc:title>
    <dc:creator opf:role="aut">{author}</dc:creator>
    <dc:subject>{subject}</dc:subject>
    <dc:language>en</dc:language>
    <dc:identifier id="bookid">urn:uuid:gleh-test-{i}</dc:identifier>
    <meta name="cover" content="cover"/>
  </metadata>
  <manifest>
    <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
    <item id="cover" href="cover.png" media-type="image/png"/>
    <item id="ch1" href="ch1.xhtml" media-type="application/xhtml+xml"/>
  </manifest>
  <spine toc="ncx"><itemref idref="ch1"/></spine>
</package>
"""

NCX = """<?xml version="1.0" encoding="UTF-8"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">
  <head><meta name="dtb:uid" content="urn:uuid:gleh-test-{i}"/></head>
  <docTitle><text>{title}</text></docTitle>
  <navMap><navPoint id="p1" playOrder="1"><navLabel><text>One</text></navLabel><content src="ch1.xhtml"/></navPoint></navMap>
</ncx>
"""

CHAPTER = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>{title}</title></head>
<body><h1>{title}</h1><p>Chapter one of {title}.</p></body></html>
"""


def books(directory, n):
    os.makedirs(directory, exist_ok=True)
    for i in range(1, n + 1):
        v = dict(
            i=i,
            title=f"Real Book {i:02d}",
            author=f"Writer {i:02d}",
            subject="Algebra" if i % 2 else "Geometry",
        )
        path = os.path.join(directory, f"book-{i:02d}.epub")
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", zipfile.ZIP_STORED)
            z.writestr("META-INF/container.xml", CONTAINER, zipfile.ZIP_DEFLATED)
            z.writestr("OEBPS/content.opf", OPF.format(**v), zipfile.ZIP_DEFLATED)
            z.writestr("OEBPS/toc.ncx", NCX.format(**v), zipfile.ZIP_DEFLATED)
            z.writestr("OEBPS/ch1.xhtml", CHAPTER.format(**v), zipfile.ZIP_DEFLATED)
            z.writestr("OEBPS/cover.png", png((i * 30 % 256, 80, 160)), zipfile.ZIP_STORED)


def configure(app_db, lib, port, per_page, users):
    from werkzeug.security import generate_password_hash

    c = sqlite3.connect(app_db)
    c.execute(
        "UPDATE settings SET config_calibre_dir = ?, config_port = ?, config_books_per_page = ?,"
        " config_allow_reverse_proxy_header_login = 1,"
        " config_reverse_proxy_login_header_name = 'X-Remote-User',"
        " config_reverse_proxy_trusted_ips = '127.0.0.1,::1'",
        (lib, int(port), int(per_page)),
    )
    for name in users:
        # ROLE_DOWNLOAD | ROLE_VIEWER; the password is never used (login is by header).
        c.execute(
            "INSERT INTO user (name, email, role, password, kindle_mail, locale, sidebar_view,"
            " default_language, denied_tags, allowed_tags, denied_column_value,"
            " allowed_column_value, view_settings, kobo_only_shelves_sync)"
            " VALUES (?, ?, ?, ?, '', 'en', 1, 'all', '', '', '', '', '{}', 0)",
            (name, f"{name}@example.org", (1 << 1) | (1 << 8),
             generate_password_hash(secrets.token_hex(16))),
        )
    c.commit()


if __name__ == "__main__":
    if sys.argv[1] == "books":
        books(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "configure":
        configure(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
