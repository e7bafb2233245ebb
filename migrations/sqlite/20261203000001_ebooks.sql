-- E-books (docs/design.md "E-books"): the last good copy of the Calibre-Web library, as the
-- background synchronisation read it from the OPDS feed; each user's note and reading
-- progress per book (keyed by the original's id `calibre-<n>`, with no foreign key to
-- `ebooks`, so they outlive a book's absence from one synchronisation); the cover cache.
CREATE TABLE ebooks (
    id BIGINT PRIMARY KEY,
    position BIGINT NOT NULL,
    title TEXT NOT NULL,
    authors TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    categories TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    published TEXT NOT NULL DEFAULT '',
    formats TEXT NOT NULL DEFAULT '',
    has_cover BIGINT NOT NULL DEFAULT 0,
    synced_at BIGINT NOT NULL
);
CREATE INDEX ebooks_position ON ebooks(position);

CREATE TABLE ebook_notes (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    book_id TEXT NOT NULL,
    content TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, book_id)
);

CREATE TABLE ebook_progress (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    book_id TEXT NOT NULL,
    status TEXT NOT NULL,
    last_read BIGINT NOT NULL,
    PRIMARY KEY (user_id, book_id)
);

CREATE TABLE ebook_covers (
    book_id BIGINT PRIMARY KEY,
    content_type TEXT NOT NULL,
    etag TEXT NOT NULL,
    data BLOB NOT NULL,
    fetched_at BIGINT NOT NULL
);
