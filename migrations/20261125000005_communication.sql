-- Communication: structured comms updates, who is told what (policies, webhooks),
-- the outbox every message goes through, and what the public status page shows.

-- Shown on the public status page when set.
ALTER TABLE services ADD COLUMN public boolean NOT NULL DEFAULT false;

-- A comms update: what is affected, what we know, what we are doing, when the next one
-- comes; internal, public (with its own wording), or both.
CREATE TABLE comms_updates (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id     bigint      NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    author_id       bigint      REFERENCES users (id),
    affected        text        NOT NULL DEFAULT '' CHECK (length(affected) <= 2000),
    known           text        NOT NULL DEFAULT '' CHECK (length(known) <= 5000),
    doing           text        NOT NULL DEFAULT '' CHECK (length(doing) <= 5000),
    internal        boolean     NOT NULL,
    public_text     text        CHECK (public_text IS NULL OR length(public_text) BETWEEN 1 AND 5000),
    next_update_at  timestamptz,
    posted_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (internal OR public_text IS NOT NULL)
);
CREATE INDEX comms_updates_incident ON comms_updates (incident_id, posted_at DESC);
CREATE INDEX comms_updates_public ON comms_updates (posted_at DESC) WHERE public_text IS NOT NULL;

-- When the incident's comms person promised the next update (from the latest update).
ALTER TABLE incidents ADD COLUMN next_update_at timestamptz;

-- Which severities and events go to which email recipients.
CREATE TABLE notification_policies (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text     NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    severities  smallint[] NOT NULL,
    events      text[]   NOT NULL,
    -- Email addresses; the owning team's members are added when `owning_team` is set.
    recipients  text[]   NOT NULL DEFAULT '{}',
    owning_team boolean  NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Outgoing chat webhooks. The secret signs every request (HMAC-SHA256).
CREATE TABLE webhooks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text     NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    url         text     NOT NULL CHECK (url ~ '^https?://'),
    format      text     NOT NULL CHECK (format IN ('slack', 'json')),
    severities  smallint[] NOT NULL,
    events      text[]   NOT NULL,
    secret      text     NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Every message to send, written in the transaction of the change that caused it and
-- delivered by a background worker. One row per recipient; its message id is fixed,
-- so a retry after a crash mid-send carries the same id.
CREATE TABLE outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id       uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    incident_id      bigint      REFERENCES incidents (id) ON DELETE SET NULL,
    event            text        NOT NULL,
    channel          text        NOT NULL CHECK (channel IN ('email', 'webhook')),
    -- An email address, or the webhook's id.
    recipient        text        NOT NULL,
    webhook_id       bigint      REFERENCES webhooks (id) ON DELETE SET NULL,
    subject          text        NOT NULL DEFAULT '',
    body_text        text        NOT NULL DEFAULT '',
    body_html        text        NOT NULL DEFAULT '',
    body_json        text        NOT NULL DEFAULT '',
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_recent ON outbox (created_at DESC);

-- A comms person's override of a public service's derived state, until cleared.
CREATE TABLE service_state_overrides (
    service_id  bigint PRIMARY KEY REFERENCES services (id) ON DELETE CASCADE,
    state       text   NOT NULL CHECK (state IN ('operational', 'degraded', 'partial_outage', 'major_outage')),
    set_by      bigint REFERENCES users (id),
    set_at      timestamptz NOT NULL DEFAULT now()
);
