use serde_json::Value;

use crate::logging::capture::capture;

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn events_in_the_request_span_carry_its_fields_at_the_top_level() {
    let ((), buf) = capture(|| {
        let span = tracing::error_span!(
            "request",
            request_id = "abc123",
            route = "/api/login",
            ip = "127.0.0.1"
        );
        span.in_scope(|| {
            tracing::info!(event = "login_success", user_id = 7);
            // A handler that still passes the id by hand, and its own ip.
            tracing::warn!(
                event = "login_failure",
                request_id = "abc123",
                ip = "10.0.0.1"
            );
        });
        tracing::info!(event = "outside");
    });
    let lines = buf.lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let e = parse(&lines[0]);
    assert_eq!(e["event"], "login_success");
    assert_eq!(e["user_id"], 7);
    assert_eq!(e["request_id"], "abc123");
    assert_eq!(e["route"], "/api/login");
    assert_eq!(e["ip"], "127.0.0.1");
    assert_eq!(e["level"], "INFO");
    assert!(e["timestamp"].as_str().unwrap().ends_with('Z'), "{e}");
    assert!(
        e["target"].as_str().unwrap().starts_with("gleh::logging"),
        "{e}"
    );

    let e = parse(&lines[1]);
    assert_eq!(
        lines[1].matches("\"request_id\"").count(),
        1,
        "{}",
        lines[1]
    );
    assert_eq!(lines[1].matches("\"ip\"").count(), 1, "{}", lines[1]);
    assert_eq!(e["request_id"], "abc123");
    assert_eq!(e["ip"], "10.0.0.1", "the event's own value wins");
    assert_eq!(e["level"], "WARN");

    let e = parse(&lines[2]);
    assert_eq!(e["event"], "outside");
    assert!(e.get("request_id").is_none(), "{e}");
}

#[test]
fn the_line_starts_with_timestamp_and_level_and_ends_with_target() {
    let ((), buf) = capture(|| tracing::info!(event = "x", message = "quote \" and \\ escaped"));
    let line = &buf.lines()[0];
    assert!(line.starts_with("{\"timestamp\":\""), "{line}");
    let keys: Vec<String> = parse(line).as_object().unwrap().keys().cloned().collect();
    let mut expected = ["event", "level", "message", "target", "timestamp"];
    expected.sort();
    assert_eq!(keys, expected);
    assert!(line.contains(",\"target\":\"gleh::logging"), "{line}");
    assert_eq!(parse(line)["message"], "quote \" and \\ escaped");
}
