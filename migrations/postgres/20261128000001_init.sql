-- GLEH schema, PostgreSQL flavour. Times are unix seconds (BIGINT), flags are 0/1 BIGINT, so the
-- same queries decode through sqlx's Any driver on SQLite and PostgreSQL alike.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin BIGINT NOT NULL DEFAULT 0,
    disabled BIGINT NOT NULL DEFAULT 0,
    avatar TEXT NOT NULL DEFAULT '',
    about_me TEXT NOT NULL DEFAULT '',
    gender TEXT NOT NULL DEFAULT '',
    pronouns TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE courses (
    id BIGSERIAL PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    path TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    categories TEXT NOT NULL DEFAULT '',
    thumbnail TEXT NOT NULL DEFAULT '',
    instructor TEXT NOT NULL DEFAULT '',
    course_number TEXT NOT NULL DEFAULT '',
    term TEXT NOT NULL DEFAULT '',
    year TEXT NOT NULL DEFAULT '',
    level TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    license_url TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE course_progress (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    course_id BIGINT NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, course_id)
);

CREATE TABLE course_notes (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    course_id BIGINT NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, course_id)
);

-- Server-side sessions: only SHA-256(id) is stored, never the id the cookie carries.
CREATE TABLE sessions (
    id_hash BYTEA PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_id ON sessions(user_id);
CREATE INDEX sessions_last_seen ON sessions(last_seen_at);

-- Fixed-window counters shared by every instance (per-IP auth limit).
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL
);

-- Per-account failed-login tracking with exponential back-off.
CREATE TABLE login_failures (
    username_key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);
