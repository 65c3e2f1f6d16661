//! Schedules through `authprobe serve`: a target created over the REST API with a cron
//! expression and a jitter reads back with its next run, switches to an interval with a
//! PATCH, refuses bad expressions naming the problem; the dashboard's form takes a cron
//! expression and the target's page shows the schedule and the next run.

use super::common::server::Server;
use reqwest::Method;
use serde_json::{Value, json};

/// `YYYY-MM-DD HH:MM` UTC of unix milliseconds, as the pages write it.
fn utc_minute(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms as u64);
    let s = humantime::format_rfc3339_seconds(t).to_string();
    format!("{} {}", &s[..10], &s[11..16])
}

fn error_of(v: &Value) -> String {
    v["error"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_round_trip_through_the_api_and_the_pages() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("authprobe.db").display());
    let server = Server::start(&db, dir.path(), &[]).await;
    let before = authprobe::store::now_millis();

    // A cron expression with a jitter: stored as given (spaces evened), with its next run.
    let (s, t) = server
        .post(
            "/api/v1/targets",
            json!({"url": "http://127.0.0.1:9/cron", "schedule_cron": "30  4 * * 1-5", "schedule_jitter_seconds": 1800}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let id = t["id"].as_i64().unwrap();
    assert_eq!(t["schedule_cron"], "30 4 * * 1-5");
    assert_eq!(t["schedule_jitter_seconds"], 1800);
    assert_eq!(t["schedule_minutes"], Value::Null);
    let next = t["next_run_at"].as_i64().expect("next_run_at");
    // 04:30 UTC on the next weekday, then this target's fixed share of the half hour.
    let offset = authprobe::store::schedule::jitter_offset(id, 1800);
    assert_eq!((next - offset) % 86_400_000, (4 * 60 + 30) * 60_000, "{t}");
    assert!(next > before && next - before < 4 * 86_400_000, "{t}");
    // The same on every read, and in the list.
    let (s, again) = server.get(&format!("/api/v1/targets/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(again["next_run_at"], next);
    let (_, list) = server.get("/api/v1/targets").await;
    let row = list["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["target"]["id"] == id)
        .unwrap();
    assert_eq!(row["target"]["next_run_at"], next);

    // The page shows the schedule, in UTC, and when the next scan is.
    let cookie = server.session_cookie().await;
    let page = server
        .client
        .get(server.at(&format!("/targets/{id}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("cron <code>30 4 * * 1-5</code> (UTC)"),
        "{html}"
    );
    assert!(html.contains("up to 30 min later"), "{html}");
    assert!(html.contains("<dt>Next scan</dt>"), "{html}");
    assert!(html.contains(&utc_minute(next)), "{html}");

    // PATCH to an interval: the expression goes, the jitter stays; never scanned, it is
    // due from its creation plus its offset.
    let (s, p) = server
        .send(
            Method::PATCH,
            &format!("/api/v1/targets/{id}"),
            Some(json!({"schedule_minutes": 60})),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["schedule_minutes"], 60);
    assert_eq!(p["schedule_cron"], Value::Null);
    assert_eq!(p["schedule_jitter_seconds"], 1800);
    assert_eq!(p["next_run_at"], p["created_at"].as_i64().unwrap() + offset);
    // And clearing it: on demand, no next run.
    let (s, p) = server
        .send(
            Method::PATCH,
            &format!("/api/v1/targets/{id}"),
            Some(json!({"schedule_minutes": null})),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["next_run_at"], Value::Null);

    // Refused, each naming the problem; nothing changes.
    for (body, says) in [
        (
            json!({"schedule_cron": "0 3 * *"}),
            "schedule_cron: the cron expression \"0 3 * *\" has 4 fields",
        ),
        (json!({"schedule_cron": "0 25 * * *"}), "is not valid"),
        (
            json!({"schedule_cron": "*/2 * * * *"}),
            "more often than every 5 minutes",
        ),
        (json!({"schedule_cron": "0 0 31 2 *"}), "never fires"),
        (
            json!({"schedule_cron": "0 3 * * *", "schedule_minutes": 60}),
            "not both",
        ),
        (json!({"schedule_jitter_seconds": 86_401}), "0 to 86400"),
        (json!({"schedule_minutes": 2}), "schedule_minutes"),
    ] {
        let (s, v) = server
            .send(
                Method::PATCH,
                &format!("/api/v1/targets/{id}"),
                Some(body.clone()),
            )
            .await;
        assert!(s == 400 || s == 422, "{body}: {s} {v}");
        assert!(error_of(&v).contains(says), "{body}: {v}");
    }
    let (s, v) = server
        .post(
            "/api/v1/targets",
            json!({"url": "http://127.0.0.1:9/x", "schedule_cron": "* * * * *"}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(error_of(&v).contains("hammer"), "{v}");
    let (s, v) = server
        .post(
            "/api/v1/targets",
            json!({"url": "http://127.0.0.1:9/x", "schedule_jitter_seconds": 60}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        error_of(&v).contains("give schedule_minutes or schedule_cron"),
        "{v}"
    );
    let (_, unchanged) = server.get(&format!("/api/v1/targets/{id}")).await;
    assert_eq!(unchanged["schedule_cron"], Value::Null);
    assert_eq!(unchanged["schedule_minutes"], Value::Null);

    // The dashboard's form: a cron expression and a jitter in minutes.
    let form = server
        .client
        .get(server.at("/targets/new"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a CSRF token")
        .to_string();
    let post = |body: String| {
        server
            .client
            .post(server.at("/targets"))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let r = post(format!(
        "csrf={csrf}&url=http%3A%2F%2F127.0.0.1%3A9%2Fform&schedule_minutes=&schedule_cron=*%2F1+*+*+*+*&schedule_jitter_minutes=5"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 400, "a hammering expression is refused");
    let html = r.text().await.unwrap();
    assert!(html.contains("more often than every 5 minutes"), "{html}");
    assert!(
        html.contains("value=\"*/1 * * * *\""),
        "the form is refilled"
    );
    let r = post(format!(
        "csrf={csrf}&url=http%3A%2F%2F127.0.0.1%3A9%2Fform&schedule_minutes=&schedule_cron=15+2+*+*+*&schedule_jitter_minutes=5"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let new_id: i64 = location
        .trim_start_matches("/targets/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (_, made) = server.get(&format!("/api/v1/targets/{new_id}")).await;
    assert_eq!(made["schedule_cron"], "15 2 * * *", "{made}");
    assert_eq!(made["schedule_jitter_seconds"], 300, "{made}");
    assert!(made["next_run_at"].as_i64().is_some(), "{made}");
}
