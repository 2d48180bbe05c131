-- The public status surfaces are served from a snapshot each instance keeps in memory.
-- Whatever can change what the public sees tells every instance so, on the channel
-- `foghorn_public` (see server/src/status_page.rs), whichever code path or instance made
-- the change. Statement-level, and NOTIFY folds repeats within a transaction, so a
-- bulk change costs one notification. Timeline writes (which bump incidents.last_seq
-- and updated_at) do not list the columns below and so stay quiet.
CREATE FUNCTION foghorn_public_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('foghorn_public', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER services_public_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON services
    FOR EACH STATEMENT EXECUTE FUNCTION foghorn_public_changed();
CREATE TRIGGER service_state_overrides_public_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON service_state_overrides
    FOR EACH STATEMENT EXECUTE FUNCTION foghorn_public_changed();
CREATE TRIGGER incident_services_public_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON incident_services
    FOR EACH STATEMENT EXECUTE FUNCTION foghorn_public_changed();
CREATE TRIGGER comms_updates_public_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON comms_updates
    FOR EACH STATEMENT EXECUTE FUNCTION foghorn_public_changed();
CREATE TRIGGER incidents_public_changed
    AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF severity, status, is_drill, declared_at, resolved_at ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION foghorn_public_changed();
