//! The document against the routers: every JSON route is documented and every documented
//! operation is routed. The router's paths are read from the `.route(…)` calls of the
//! JSON modules' sources (`routes/api/`, `routes/health.rs`); which methods each path
//! answers is asked of the routers themselves, with fallbacks that tell "no such path"
//! and "no such method" apart from any answer of a handler.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

use axum::{body::Body, http::Request};
use serde_json::Value;
use tower::ServiceExt as _;

use super::*;

/// The routers whose routes the document describes.
fn json_routers() -> Router<AppState> {
    super::super::router().merge(crate::routes::health::router())
}

/// The source files of those routers.
fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src/routes/api") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_some_and(|n| n != "tests.rs")
            {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
    let mut files = vec![root.join("health.rs")];
    walk(&root.join("api"), &mut files);
    files
}

/// A path constant a `.route(…)` call names instead of a literal.
fn constant(name: &str) -> &'static str {
    match name {
        "streamed::COURSE_UPLOAD_API" | "crate::http::streamed::COURSE_UPLOAD_API" => {
            crate::http::streamed::COURSE_UPLOAD_API
        }
        other => panic!("resolve the route path constant {other} in this test"),
    }
}

/// The first argument of every `.route(` call in `text`.
fn route_paths(text: &str) -> Vec<String> {
    let needle = ".route(";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(needle) {
        rest = &rest[at + needle.len()..];
        let arg = rest.trim_start();
        if let Some(lit) = arg.strip_prefix('"') {
            let end = lit.find('"').expect("closing quote");
            out.push(lit[..end].to_string());
        } else {
            let end = arg
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(arg.len());
            out.push(constant(&arg[..end]).to_string());
        }
    }
    out
}

/// `/api/sessions/{id}` → `/api/sessions/1`.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                "1"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

const NO_PATH: StatusCode = StatusCode::IM_A_TEAPOT;
const PROBED: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

fn no_method() -> StatusCode {
    StatusCode::from_u16(419).expect("a status")
}

#[tokio::test]
async fn every_json_route_is_documented_and_every_operation_is_routed() {
    let mut paths = BTreeSet::new();
    for file in sources() {
        let text = std::fs::read_to_string(&file).expect("read source");
        paths.extend(route_paths(&text));
    }
    assert!(paths.contains("/api/login") && paths.contains("/health/deep"));

    let mut doc = document("session");
    let mut documented = BTreeSet::new();
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, _) in operations(item) {
            documented.insert((method.to_string(), path.clone()));
        }
    }

    let app = json_routers()
        .fallback(|| async { NO_PATH })
        .method_not_allowed_fallback(|| async { no_method() })
        .with_state(crate::state::for_tests().await);
    let mut routed = BTreeSet::new();
    let documented_paths: BTreeSet<String> = documented.iter().map(|(_, p)| p.clone()).collect();
    for path in paths.union(&documented_paths) {
        for method in PROBED {
            let req = Request::builder()
                .method(method.clone())
                .uri(concrete(path))
                .body(Body::empty())
                .expect("request");
            let status = app.clone().oneshot(req).await.expect("answer").status();
            if status != NO_PATH && status != no_method() {
                routed.insert((method.to_string(), path.clone()));
            }
        }
    }

    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routed but not in /openapi.json (add #[utoipa::path] and list it in ApiDoc): \
         {undocumented:?}\ndocumented but not routed: {unrouted:?}"
    );
    assert!(routed.len() > 40, "{routed:?}");
}

#[test]
fn the_document_is_openapi_3_1_with_both_security_schemes() {
    let doc = serde_json::to_value(document("__Host-session")).expect("serializes");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes[SESSION]["type"], "apiKey");
    assert_eq!(schemes[SESSION]["in"], "cookie");
    assert_eq!(schemes[SESSION]["name"], "__Host-session");
    assert_eq!(schemes[CSRF]["in"], "header");
    assert_eq!(schemes[CSRF]["name"], CSRF_HEADER);
    assert_eq!(
        doc["components"]["schemas"]["ErrorBody"]["required"],
        serde_json::json!(["error"])
    );
}

/// Every 4xx and 5xx is `{"error": …}`, but for the answers listed here, which have
/// another shape on purpose.
#[test]
fn every_error_answer_is_the_error_body() {
    let other_shape = [
        ("get", "/api/check_session", "401"),
        ("get", "/auth/check", "401"),
        ("get", "/health/deep", "503"),
    ];
    let doc = serde_json::to_value(document("session")).expect("serializes");
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let responses = op["responses"].as_object().expect("responses");
            for status in ["500", "503"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path}: no {status}"
                );
            }
            for (status, answer) in responses {
                if status.starts_with('2') || status.starts_with('3') {
                    continue;
                }
                if other_shape.contains(&(method.as_str(), path.as_str(), status.as_str())) {
                    continue;
                }
                let schema = &answer["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(
                    schema,
                    &Value::from("#/components/schemas/ErrorBody"),
                    "{method} {path} {status}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn route_calls_are_found_in_sources() {
    let text = "Router::new()\n    .route(\n        \"/a/{id}\",\n        get(x),\n    )\n    .route(streamed::COURSE_UPLOAD_API, post(up))";
    assert_eq!(
        route_paths(text),
        ["/a/{id}", crate::http::streamed::COURSE_UPLOAD_API]
    );
    assert_eq!(concrete("/a/{id}/note"), "/a/1/note");
}

#[test]
fn operation_ids_are_unique_and_links_name_them() {
    let doc = serde_json::to_value(document("session")).expect("serializes");
    let mut ids = BTreeSet::new();
    let mut targets = Vec::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("path item").values() {
            let id = op["operationId"].as_str().expect("operationId").to_string();
            assert!(ids.insert(id.clone()), "operationId {id} is not unique");
            for answer in op["responses"].as_object().expect("responses").values() {
                if let Some(links) = answer["links"].as_object() {
                    for l in links.values() {
                        targets.push(l["operationId"].as_str().expect("target").to_string());
                    }
                }
            }
        }
    }
    assert!(targets.len() >= 4, "{targets:?}");
    for t in targets {
        assert!(ids.contains(&t), "a link to {t}, which is not an operation");
    }
}
