-- The doors for automation: API tokens, alerts that open incidents, chat commands.

-- A service token acts as a user of its own, a bot: it holds a role like a person,
-- and everything it writes (timeline entries, comms updates) is signed "bot: <name>".
-- Bots never sign in (their password hash is empty, which no password matches) and
-- are left out of the people lists.
ALTER TABLE users
    ADD COLUMN is_bot       boolean NOT NULL DEFAULT false,
    -- The person's user id in the company chat (Slack or Mattermost), set on their
    -- account page: how a slash command knows who typed it.
    ADD COLUMN chat_user_id text CHECK (length(chat_user_id) BETWEEN 1 AND 64);
CREATE UNIQUE INDEX users_chat_user_id ON users (chat_user_id) WHERE chat_user_id IS NOT NULL;

CREATE TABLE api_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    -- Whose rights the token carries: a person's, or a service's bot user.
    user_id       bigint      NOT NULL REFERENCES users (id),
    service       boolean     NOT NULL,
    read_only     boolean     NOT NULL,
    -- The token's first characters, shown so people can recognise it; the secret
    -- itself is stored only as its SHA-256.
    prefix        text        NOT NULL,
    secret_sha256 bytea       NOT NULL UNIQUE,
    expires_at    timestamptz,
    created_by    bigint      REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    last_used_ip  text,
    revoked_at    timestamptz,
    -- The rate limit's current one-minute window (shared by every instance).
    window_start  timestamptz NOT NULL DEFAULT now(),
    window_count  integer     NOT NULL DEFAULT 0
);
-- A name picks one live token (`foghorn token revoke --name …`).
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (lower(name)) WHERE revoked_at IS NULL;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Alert routing: ordered rules; the first whose matchers all hold decides.
CREATE TABLE alert_routes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    position    integer     NOT NULL,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    -- [{"label": "...", "op": "=" | "!=" | "=~", "value": "..."}]; empty matches everything.
    matchers    jsonb       NOT NULL DEFAULT '[]',
    service_id  bigint      REFERENCES services (id),
    team_id     bigint      REFERENCES teams (id),
    -- NULL: from the alerts' `severity` label (critical → SEV1 …), SEV3 without one.
    severity    smallint    CHECK (severity BETWEEN 1 AND 4),
    -- Declare an incident, or only record the alerts.
    declare     boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One Alertmanager (or Grafana) alert group, as last notified. The group's row is
-- locked while a notification is applied: replays and concurrent retries of one
-- notification change nothing twice.
CREATE TABLE alert_groups (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        text        NOT NULL CHECK (source IN ('alertmanager', 'grafana')),
    group_key     text        NOT NULL,
    -- The incident it opened (and feeds while that incident is open).
    incident_id   bigint      REFERENCES incidents (id),
    route_id      bigint      REFERENCES alert_routes (id) ON DELETE SET NULL,
    status        text        NOT NULL CHECK (status IN ('firing', 'resolved')),
    common_labels jsonb       NOT NULL DEFAULT '{}',
    common_annotations jsonb  NOT NULL DEFAULT '{}',
    -- fingerprint → {"status", "name", "summary", "url", "startsAt", "labels"}
    alerts        jsonb       NOT NULL DEFAULT '{}',
    external_url  text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, group_key)
);
CREATE INDEX alert_groups_incident ON alert_groups (incident_id) WHERE incident_id IS NOT NULL;

-- An incident an alert declared keeps the alerts' labels and annotations as they were
-- (shown on its page; the history filters on it).
ALTER TABLE incidents ADD COLUMN alert jsonb;
