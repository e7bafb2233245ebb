-- Deleting a course removes its progress and notes (ON DELETE CASCADE) by course_id, which
-- the (user_id, course_id) keys do not serve: without these a deletion scans both tables
-- (docs/scaling.md "PostgreSQL at 100,000 users"). Expand-only: older binaries ignore them.
CREATE INDEX course_progress_course_id ON course_progress(course_id);
CREATE INDEX course_notes_course_id ON course_notes(course_id);
