-- Avatar images in the database (issue 13 point 2; docs/design.md "Storage"): an upload
-- made through one instance is served by every other, with nothing shared on disk. One row
-- per stored picture, keyed by its generated name (`<32 hex>.png|.jpg`, random, never
-- reused), whose extension also gives the Content-Type. `users.avatar` names the current
-- one; the upload writes both in one transaction and deletes the user's previous row in it.
-- Expand-only: an older binary ignores the table. The files an older binary left in
-- DATA_DIR/avatars are moved in by `gleh migrate` and at the start of `gleh serve`
-- (src/avatar/adopt.rs), not here: SQL cannot read them.
CREATE TABLE avatars (
    name TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    bytes BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX avatars_user_id ON avatars(user_id);
