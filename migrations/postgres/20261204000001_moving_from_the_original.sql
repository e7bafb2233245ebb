-- A session opened with a password too weak to keep (shorter than MIN_PASSWORD_LENGTH or
-- on the common list, as the original allowed): 1 until the password is changed, and
-- while it is, every page leads to the password form and every API but the password
-- change answers 403 (docs/design.md "Passwords and accounts").
ALTER TABLE sessions ADD COLUMN password_change_required BIGINT NOT NULL DEFAULT 0;

-- `gleh import-gleh`: which account each of the original's users became, so a second
-- import adds nothing (no foreign key: the record outlives an account deleted later, and
-- re-importing must not bring it back).
CREATE TABLE imported_users (
    source_id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL
);
