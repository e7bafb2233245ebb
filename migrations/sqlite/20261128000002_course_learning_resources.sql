-- The learning resource types a course package's data.json lists (OCW's
-- `learning_resource_types`), kept as the JSON text it was read as; '' when unknown.
ALTER TABLE courses ADD COLUMN learning_resources TEXT NOT NULL DEFAULT '';
