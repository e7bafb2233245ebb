-- The revocation epoch (src/db/session_cache.rs): bumped, in the writer's own transaction,
-- by every change that decides who a session is, whoever makes it (any instance, any
-- `gleh` command). Each server reads it every 100 ms and empties its session cache when it
-- moves. `last_seen_at` writes do not bump it.
CREATE TABLE auth_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO auth_epoch (id, value) VALUES (1, 0);

CREATE FUNCTION gleh_bump_auth_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE auth_epoch SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER auth_epoch_session_deleted AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION gleh_bump_auth_epoch();
CREATE TRIGGER auth_epoch_session_changed
    AFTER UPDATE OF id_hash, user_id, created_at, reauth_at, password_change_required ON sessions
    FOR EACH ROW EXECUTE FUNCTION gleh_bump_auth_epoch();
CREATE TRIGGER auth_epoch_user_deleted AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION gleh_bump_auth_epoch();
CREATE TRIGGER auth_epoch_user_changed AFTER UPDATE OF id, username, is_admin, disabled ON users
    FOR EACH ROW EXECUTE FUNCTION gleh_bump_auth_epoch();
