-- The audit trail: who did what security-relevant or administrative thing, when and
-- from where. Written in the same transaction as the change it records.
--
-- Append-only. An operator who wants that to hold against Foghorn's own credentials
-- runs Foghorn under a role with only SELECT and INSERT on this table (see the README);
-- for the simple set-up, where Foghorn owns the table, the trigger below refuses every
-- UPDATE, DELETE and TRUNCATE except the age-based pruning of audit_prune().
CREATE TABLE audit_events (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    -- The user who acted, when it was one (a failed sign-in has none).
    actor_id  bigint      REFERENCES users (id),
    -- Who acted, as they were known then: "Name <email>", the email a failed sign-in
    -- tried, or "Foghorn" / "command line" for the server itself.
    actor     text        NOT NULL,
    kind      text        NOT NULL,
    -- What it was done to, as people read it ("user Ada <ada@example.com>", "team Payments").
    target    text        NOT NULL DEFAULT '',
    ip        text        NOT NULL DEFAULT '',
    details   jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_kind ON audit_events (kind, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);

CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('foghorn.audit_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Deletes the events older than `keep_days` days, and records that it did. The only way
-- rows leave the table. SECURITY DEFINER, so a restricted application role may be
-- allowed to run it (GRANT EXECUTE) without holding DELETE itself.
CREATE FUNCTION audit_prune(keep_days integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    removed bigint;
BEGIN
    IF keep_days IS NULL OR keep_days < 1 THEN
        RAISE EXCEPTION 'audit_prune: keep_days must be at least 1';
    END IF;
    -- Instances pruning at the same moment take turns; the second finds nothing.
    PERFORM pg_advisory_xact_lock(hashtext('foghorn.audit_prune'));
    PERFORM set_config('foghorn.audit_prune', 'on', true);
    DELETE FROM audit_events WHERE at < now() - make_interval(days => keep_days);
    GET DIAGNOSTICS removed = ROW_COUNT;
    PERFORM set_config('foghorn.audit_prune', 'off', true);
    IF removed > 0 THEN
        INSERT INTO audit_events (actor, kind, target, details)
        VALUES ('Foghorn', 'audit_pruned', 'audit log',
                jsonb_build_object('removed', removed, 'keep_days', keep_days));
    END IF;
    RETURN removed;
END $$;
