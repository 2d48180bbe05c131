//! The schema is built by migrations alone, from an empty database, and reapplying is harmless.

use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn migrations_build_the_schema_from_empty(pool: PgPool) {
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(tables, 0, "starts empty");

    foghorn::migrate(&pool).await.expect("migrations apply to an empty database");
    foghorn::migrate(&pool).await.expect("and again, as at every start-up");

    for table in ["users", "teams", "team_members", "services", "sign_in_attempts", "_sqlx_migrations"] {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(format!("public.{table}"))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(exists, "{table} exists");
    }
    let sessions: bool =
        sqlx::query_scalar("SELECT to_regclass('tower_sessions.session') IS NOT NULL").fetch_one(&pool).await.unwrap();
    assert!(sessions, "the session store's table exists");

    // Every timeline entry rewrites its incident's row: that table is vacuumed early.
    let options: Vec<String> =
        sqlx::query_scalar("SELECT unnest(reloptions) FROM pg_class WHERE oid = 'incidents'::regclass")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(options.contains(&"autovacuum_vacuum_scale_factor=0.02".to_owned()), "{options:?}");
}
