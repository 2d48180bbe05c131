//! Accounts and sessions: hashing, sign-in and sign-out, expiry, deactivation,
//! throttling, the first administrator.
//!
//! Long on purpose: one feature's tests read as its specification in one place, and
//! each test file is a binary of its own that links all of Foghorn.

mod common;

use app::model::Role;
use app::server::AuthSettings;
use axum::http::StatusCode;
use common::{PASSWORD, TestApp, sleep};
use foghorn::WebSettings;
use sqlx::PgPool;
use std::time::{Duration, Instant};

#[sqlx::test(migrations = false)]
async fn passwords_are_stored_as_argon2id_with_owasp_parameters(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;

    let added = app
        .call(
            "add_user",
            &[
                ("email", "Ana@Example.com"),
                ("display_name", "Ana"),
                ("role", "responder"),
                ("password", "a long enough passphrase"),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);

    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'ana@example.com'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(!hash.contains("a long enough passphrase"));
    // The email was normalised, so the person signs in however they type it.
    app.sign_in("ANA@example.com", "a long enough passphrase").await;
}

#[sqlx::test(migrations = false)]
async fn password_policy_is_length_and_not_common(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let add = |email: &'static str, password: String| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.call(
                "add_user",
                &[("email", email), ("display_name", "X"), ("role", "viewer"), ("password", &password)],
                Some(&admin),
            )
            .await
        }
    };

    let short = add("a@example.com", "short12".into()).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body.contains("at least 8"), "{}", short.body);

    let common = add("b@example.com", "Password123".into()).await;
    assert_eq!(common.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(common.body.contains("most common"), "{}", common.body);

    let too_long = add("c@example.com", "x".repeat(257)).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);

    // 64 characters (and more) are accepted, and all of them count: no truncation.
    let long = "é".repeat(40) + &"z".repeat(60);
    assert_eq!(add("d@example.com", long.clone()).await.status, StatusCode::OK);
    app.sign_in("d@example.com", &long).await;
    let truncated =
        app.call("sign_in", &[("email", "d@example.com"), ("password", &long[..long.len() - 1])], None).await;
    assert_eq!(truncated.status, StatusCode::UNPROCESSABLE_ENTITY);

    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 2, "refused users were not created");
}

#[sqlx::test(migrations = false)]
async fn sign_in_replaces_the_session_id(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.create_user("ana@example.com", "Ana", Role::Responder).await;

    // A session already on this browser (signed in before) is not reused.
    let before = app.sign_in("ana@example.com", PASSWORD).await;

    let signed_in = app
        .call("sign_in", &[("email", "ana@example.com"), ("password", PASSWORD), ("next", "/admin")], Some(&before))
        .await;
    let after = signed_in.session_cookie().expect("new cookie at sign-in");
    assert_ne!(before, after, "the session id must change at sign-in");
    assert_eq!(signed_in.header("location"), Some("/admin"), "back to where the visitor was going");

    assert_eq!(app.viewer(Some(&after)).await["email"], "ana@example.com");
    assert!(app.viewer(Some(&before)).await.is_null(), "the pre-sign-in cookie is dead");
}

#[sqlx::test(migrations = false)]
async fn sign_out_destroys_the_session(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    assert_eq!(app.viewer(Some(&cookie)).await["role"], "responder");

    let out = app.call("sign_out", &[], Some(&cookie)).await;
    assert!(out.status.is_success() || out.status.is_redirection(), "{}", out.status);

    assert!(app.viewer(Some(&cookie)).await.is_null(), "replaying the old cookie gets nothing");
    let page = app.get("/", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), Some("/login"));
}

#[sqlx::test(migrations = false)]
async fn sessions_end_after_the_absolute_lifetime_even_when_used(pool: PgPool) {
    let lifetime = Duration::from_secs(4);
    let auth = AuthSettings { session_absolute: lifetime, ..common::test_auth() };
    let app = TestApp::with(pool, auth, WebSettings::default()).await;
    app.create_user("vera@example.com", "Vera", Role::Viewer).await;
    // The server counts a session's age in whole seconds, so "certainly young" is
    // `lifetime - 1 s` after sign-in began and "certainly old" `lifetime + 1 s` after it
    // ended: each check is judged by the clock, not by how fast this machine is. (A
    // machine too busy to check even once while young signs in again.)
    let young = lifetime - Duration::from_secs(1);
    let (cookie, signed_in) = loop {
        let before_sign_in = Instant::now();
        let cookie = app.sign_in("vera@example.com", PASSWORD).await;
        let signed_in = Instant::now();
        let mut checked_young = false;
        while before_sign_in.elapsed() < young {
            let alive = !app.viewer(Some(&cookie)).await.is_null();
            if before_sign_in.elapsed() < young {
                assert!(alive, "a session used within its lifetime stays");
                checked_young = true;
            }
            sleep(300).await;
        }
        if checked_young {
            break (cookie, signed_in);
        }
    };
    sleep_until(signed_in + lifetime + Duration::from_secs(1)).await;
    assert!(app.viewer(Some(&cookie)).await.is_null());
}

#[sqlx::test(migrations = false)]
async fn sessions_end_after_idling(pool: PgPool) {
    let idle = Duration::from_secs(2);
    let auth = AuthSettings { session_idle: idle, ..common::test_auth() };
    let app = TestApp::with(pool, auth, WebSettings::default()).await;
    let (_, mut cookie) = app.user_with_role(Role::Viewer).await;
    // Activity keeps it alive past the idle limit: each request renews it before it
    // answers, so a request that answers within `idle` of the previous answer finds it
    // alive, however long the machine takes to serve either. (Should the machine stall
    // for longer than that, the session has rightly ended: sign in and start over.)
    let mut last_answer = Instant::now();
    let mut kept_since = Instant::now();
    while kept_since.elapsed() < idle * 2 {
        sleep(300).await;
        let alive = !app.viewer(Some(&cookie)).await.is_null();
        if last_answer.elapsed() < idle {
            assert!(alive, "an active session stays");
        } else if !alive {
            cookie = app.sign_in("viewer@example.com", PASSWORD).await;
            kept_since = Instant::now();
        }
        last_answer = Instant::now();
    }
    // …and idling ends it.
    sleep_until(last_answer + idle + Duration::from_secs(1)).await;
    assert!(app.viewer(Some(&cookie)).await.is_null());
}

async fn sleep_until(at: Instant) {
    tokio::time::sleep_until(at.into()).await;
}

#[sqlx::test(migrations = false)]
async fn deactivation_ends_sessions_and_blocks_sign_in(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user_with_role(Role::Admin).await;
    let (bob, bob_cookie) = app.user_with_role(Role::Responder).await;

    let off = app.call("set_user_active", &[("user_id", &bob.to_string()), ("active", "false")], Some(&admin)).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);

    assert!(app.viewer(Some(&bob_cookie)).await.is_null(), "bob's session ended");
    let again = app.call("sign_in", &[("email", "responder@example.com"), ("password", PASSWORD)], None).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("do not match an active account"), "{}", again.body);

    let on = app.call("set_user_active", &[("user_id", &bob.to_string()), ("active", "true")], Some(&admin)).await;
    assert_eq!(on.status, StatusCode::OK);
    app.sign_in("responder@example.com", PASSWORD).await;
}

#[sqlx::test(migrations = false)]
async fn changing_the_password_ends_the_other_sessions(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, laptop) = app.user_with_role(Role::Responder).await;
    let phone = app.sign_in("responder@example.com", PASSWORD).await;

    let wrong = app
        .call(
            "change_password",
            &[("current_password", "not it at all"), ("new_password", "a brand new passphrase")],
            Some(&laptop),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);

    let changed = app
        .call(
            "change_password",
            &[("current_password", PASSWORD), ("new_password", "a brand new passphrase")],
            Some(&laptop),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);

    assert!(!app.viewer(Some(&laptop)).await.is_null(), "the session that changed it stays");
    assert!(app.viewer(Some(&phone)).await.is_null(), "other sessions end");
    app.sign_in("responder@example.com", "a brand new passphrase").await;
}

#[sqlx::test(migrations = false)]
async fn wrong_email_and_wrong_password_get_the_same_message(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.create_user("ana@example.com", "Ana", Role::Responder).await;
    let wrong_password =
        app.call("sign_in", &[("email", "ana@example.com"), ("password", "nope nope nope")], None).await;
    let unknown_email =
        app.call("sign_in", &[("email", "nobody@example.com"), ("password", "nope nope nope")], None).await;
    assert_eq!(wrong_password.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_password.body, unknown_email.body);
    assert!(wrong_password.session_cookie().is_none());
}

#[sqlx::test(migrations = false)]
async fn password_guessing_is_refused_but_the_real_user_still_signs_in(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.create_user("ana@example.com", "Ana", Role::Responder).await;
    let attacker = "203.0.113.66";

    for _ in 0..app::server::throttle::PAIR_LIMIT {
        let guess = app
            .call_from(attacker, "sign_in", &[("email", "ana@example.com"), ("password", "guess guess")], None)
            .await;
        assert_eq!(guess.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Now even the right password from the attacker's address is refused.
    let refused =
        app.call_from(attacker, "sign_in", &[("email", "ana@example.com"), ("password", PASSWORD)], None).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert!(refused.session_cookie().is_none());

    // Ana, from her own address, still gets in (slowed down, not locked out).
    let started = std::time::Instant::now();
    let ana =
        app.call_from("198.51.100.7", "sign_in", &[("email", "ana@example.com"), ("password", PASSWORD)], None).await;
    assert!(ana.session_cookie().is_some(), "{} {}", ana.status, ana.body);
    assert!(started.elapsed() >= Duration::from_secs(1), "attempts on an attacked account are slowed");
}

#[sqlx::test(migrations = false)]
async fn concurrent_guesses_are_judged_only_up_to_the_limit(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.create_user("ana@example.com", "Ana", Role::Responder).await;
    let attacker = "203.0.113.66";
    let guesses = (0..40).map(|_| {
        let app = &app;
        async move {
            app.call_from(attacker, "sign_in", &[("email", "ana@example.com"), ("password", "guess guess")], None)
                .await
                .status
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let judged = statuses.iter().filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(judged as i64, app::server::throttle::PAIR_LIMIT, "{statuses:?}");
    assert_eq!(judged + refused, 40, "{statuses:?}");

    // Ana, from her own address, still gets in.
    let ana =
        app.call_from("198.51.100.7", "sign_in", &[("email", "ana@example.com"), ("password", PASSWORD)], None).await;
    assert!(ana.session_cookie().is_some(), "{} {}", ana.status, ana.body);
}

#[sqlx::test(migrations = false)]
async fn one_address_guessing_many_accounts_cannot_lock_out_its_other_users(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let office = "203.0.113.99";
    // Someone behind the same office address tries many accounts.
    for i in 0..app::server::throttle::ADDRESS_LIMIT {
        let email = format!("user{i}@example.com");
        let guess = app.call_from(office, "sign_in", &[("email", &email), ("password", "guess guess")], None).await;
        assert_eq!(guess.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Guesses on unknown accounts from that address are now refused outright...
    let unknown =
        app.call_from(office, "sign_in", &[("email", "nobody@example.com"), ("password", "guess guess")], None).await;
    assert_eq!(unknown.status, StatusCode::TOO_MANY_REQUESTS, "{}", unknown.body);
    // ...and so is a wrong password for anyone, whatever the account...
    app.create_user("fresh@example.com", "Fresh", Role::Viewer).await;
    let wrong =
        app.call_from(office, "sign_in", &[("email", "fresh@example.com"), ("password", "guess guess")], None).await;
    assert_eq!(wrong.status, StatusCode::TOO_MANY_REQUESTS, "{}", wrong.body);
    // ...but a colleague who types the right password gets in.
    let fresh = app.call_from(office, "sign_in", &[("email", "fresh@example.com"), ("password", PASSWORD)], None).await;
    assert!(fresh.session_cookie().is_some(), "{} {}", fresh.status, fresh.body);
}

#[sqlx::test(migrations = false)]
async fn changing_the_password_is_throttled_like_signing_in(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, cookie) = app.user_with_role(Role::Responder).await;
    for _ in 0..app::server::throttle::PAIR_LIMIT {
        let wrong = app
            .call(
                "change_password",
                &[("current_password", "not it at all"), ("new_password", "a brand new passphrase")],
                Some(&cookie),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.body);
    }
    let refused = app
        .call(
            "change_password",
            &[("current_password", PASSWORD), ("new_password", "a brand new passphrase")],
            Some(&cookie),
        )
        .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    // The password did not change (signing in from elsewhere: this address is refused).
    let elsewhere = app
        .call_from("198.51.100.7", "sign_in", &[("email", "responder@example.com"), ("password", PASSWORD)], None)
        .await;
    assert!(elsewhere.session_cookie().is_some(), "{} {}", elsewhere.status, elsewhere.body);
}

#[sqlx::test(migrations = false)]
async fn anonymous_page_views_create_no_session(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.create_user("ana@example.com", "Ana", Role::Responder).await;
    for i in 0..1000 {
        let page = app.get(&format!("/incidents/INC-{i}?q={}", "x".repeat(i % 50)), None).await;
        assert!(page.status.is_redirection(), "{}", page.status);
        assert!(page.session_cookie().is_none());
    }
    let sessions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session").fetch_one(&app.pool).await.unwrap();
    assert_eq!(sessions, 0);
}

#[sqlx::test(migrations = false)]
async fn sign_in_returns_to_the_page_asked_for_and_only_to_a_local_one(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.create_user("ana@example.com", "Ana", Role::Responder).await;
    let page = app.get("/incidents/INC-7?tab=timeline", None).await;
    let location = page.header("location").unwrap().to_owned();
    assert_eq!(location, "/login?next=%2Fincidents%2FINC-7%3Ftab%3Dtimeline");
    let login = app.get(&location, None).await;
    assert!(
        login.body.contains(r#"name="next""#) && login.body.contains("/incidents/INC-7?tab=timeline"),
        "{}",
        login.body
    );

    let signed_in = app
        .call(
            "sign_in",
            &[("email", "ana@example.com"), ("password", PASSWORD), ("next", "/incidents/INC-7?tab=timeline")],
            None,
        )
        .await;
    assert_eq!(signed_in.header("location"), Some("/incidents/INC-7?tab=timeline"));

    for foreign in ["//evil.example.com/x", "https://evil.example.com/", "/\\evil.example.com", "javascript:alert(1)"] {
        let response =
            app.call("sign_in", &[("email", "ana@example.com"), ("password", PASSWORD), ("next", foreign)], None).await;
        assert_eq!(response.header("location"), Some("/"), "{foreign}");
    }
    let long = format!("/{}", "a".repeat(2001));
    let response =
        app.call("sign_in", &[("email", "ana@example.com"), ("password", PASSWORD), ("next", &long)], None).await;
    assert_eq!(response.header("location"), Some("/"));
    // A path too long to carry is not carried.
    let page = app.get(&long, None).await;
    assert_eq!(page.header("location"), Some("/login"));
}

#[sqlx::test(migrations = false)]
async fn the_first_visit_creates_the_administrator_and_only_then(pool: PgPool) {
    let app = TestApp::new(pool).await;

    let home = app.get("/", None).await;
    assert_eq!(home.header("location"), Some("/setup"));
    let login = app.get("/login", None).await;
    assert_eq!(login.header("location"), Some("/setup"));
    let setup = app.get("/setup", None).await;
    assert_eq!(setup.status, StatusCode::OK);
    assert!(setup.body.contains("Create the first administrator"), "{}", setup.body);

    // Whoever started Foghorn has the setup code from its log; whoever merely reached it does not.
    let code =
        app::server::db::users::issue_setup_code(&app.pool).await.unwrap().expect("a code while there are no users");
    let admin = |code: &str| {
        [
            ("setup_code", code.to_owned()),
            ("email", "ada@example.com".into()),
            ("display_name", "Ada".into()),
            ("password", PASSWORD.into()),
        ]
    };
    for wrong in ["", "AAAA-BBBB-CCCC-DDDD-EEEE"] {
        let form = admin(wrong);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = app.call("create_first_admin", &form, None).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert_eq!(refused.json()["field"], "setup_code", "{}", refused.body);
    }
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(users, 0);

    let bad = app
        .call(
            "create_first_admin",
            &[("setup_code", &code), ("email", "not-an-email"), ("display_name", "Ada"), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("email"), "{}", bad.body);

    // Typed by hand: lower case, without the dashes.
    let typed = code.replace('-', "").to_lowercase();
    let created = app
        .call(
            "create_first_admin",
            &[("setup_code", &typed), ("email", "ada@example.com"), ("display_name", "Ada"), ("password", PASSWORD)],
            None,
        )
        .await;
    let cookie = created.session_cookie().expect("the new admin is signed in");
    assert_eq!(app.viewer(Some(&cookie)).await["role"], "admin");

    let second = app
        .call(
            "create_first_admin",
            &[("setup_code", &code), ("email", "eve@example.com"), ("display_name", "Eve"), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(second.status, StatusCode::FORBIDDEN);
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(users, 1);
    assert_eq!(app.get("/setup", None).await.header("location"), Some("/login"));
    assert!(app::server::db::users::issue_setup_code(&app.pool).await.unwrap().is_none(), "no code once a user exists");
}

#[sqlx::test(migrations = false)]
async fn simultaneous_first_visits_create_one_administrator(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let code = app::server::db::users::issue_setup_code(&app.pool).await.unwrap().unwrap();
    let attempts = (0..4).map(|i| {
        let email = format!("admin{i}@example.com");
        let (app, code) = (&app, &code);
        async move {
            app.call(
                "create_first_admin",
                &[("setup_code", code), ("email", &email), ("display_name", "Admin"), ("password", PASSWORD)],
                None,
            )
            .await
            .status
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    assert_eq!(statuses.iter().filter(|s| s.is_success() || s.is_redirection()).count(), 1, "{statuses:?}");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(users, 1);
}
