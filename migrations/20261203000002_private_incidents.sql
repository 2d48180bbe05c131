-- Private incidents: visible only to their participants (anyone who held or holds a
-- role on it), admins, and — when the declarer allows it — the owning team's members.
-- The rule itself lives in app/src/server/policy.rs (incident_visible).
ALTER TABLE incidents
    ADD COLUMN private      boolean NOT NULL DEFAULT false,
    ADD COLUMN team_can_see boolean NOT NULL DEFAULT false;

-- Webhooks hear about private incidents only when an admin allows it for that webhook.
ALTER TABLE webhooks
    ADD COLUMN private_incidents boolean NOT NULL DEFAULT false;

-- Participants are looked up per (incident, user) by every visibility check.
CREATE INDEX IF NOT EXISTS incident_roles_incident_user ON incident_roles (incident_id, user_id);

-- The public status page drops an incident the moment it becomes private.
DROP TRIGGER incidents_public_changed ON incidents;
CREATE TRIGGER incidents_public_changed
    AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF severity, status, is_drill, declared_at, resolved_at, private ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION foghorn_public_changed();
