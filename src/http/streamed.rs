//! Routes whose handler streams a large request body itself (the course zip upload): the
//! stack's overall `REQUEST_TIMEOUT` (`http::stack`) would cut off a legitimate upload
//! over a slow link, so these routes are exempt from it and bound themselves instead: by
//! size (`COURSE_UPLOAD_MAX_BYTES`) and by an idle timeout on every read of the body
//! (`catalog::upload::IDLE_TIMEOUT`). They read the body without a body-limit extractor.

/// `POST /api/admin/upload-course`.
pub const COURSE_UPLOAD_API: &str = "/api/admin/upload-course";
/// `POST /admin/courses/upload`, the admin page's form.
pub const COURSE_UPLOAD_PAGE: &str = "/admin/courses/upload";

/// Whether the matched route `path` streams its body.
pub fn is_streamed(path: &str) -> bool {
    matches!(path, COURSE_UPLOAD_API | COURSE_UPLOAD_PAGE)
}
