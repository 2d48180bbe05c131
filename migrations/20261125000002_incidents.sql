-- Incidents, who holds which role in them, and their append-only timeline.

CREATE SEQUENCE incident_number_seq;

CREATE TABLE incidents (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The human id: INC-<number>. A sequence keeps it unique under concurrent declares.
    number           bigint      NOT NULL UNIQUE DEFAULT nextval('incident_number_seq'),
    title            text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    summary          text        NOT NULL DEFAULT '' CHECK (length(summary) <= 20000),
    severity         smallint    NOT NULL CHECK (severity BETWEEN 1 AND 4),
    status           text        NOT NULL DEFAULT 'investigating'
                     CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved')),
    team_id          bigint      REFERENCES teams (id),
    is_drill         boolean     NOT NULL DEFAULT false,
    resolution       text        NOT NULL DEFAULT '',
    started_at       timestamptz,
    detected_at      timestamptz,
    declared_at      timestamptz NOT NULL DEFAULT now(),
    acknowledged_at  timestamptz,
    mitigated_at     timestamptz,
    resolved_at      timestamptz,
    declared_by      bigint      REFERENCES users (id),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- Bumped by every change: an edit based on an older version is refused as stale.
    version          integer     NOT NULL DEFAULT 1,
    -- The last timeline sequence number handed out; taken under the row lock, so
    -- sequence order is commit order within an incident (live streams resume on it).
    last_seq         bigint      NOT NULL DEFAULT 0,
    search           tsvector GENERATED ALWAYS AS
                     (to_tsvector('english', title || ' ' || summary)) STORED
);
CREATE INDEX incidents_active ON incidents (severity, declared_at) WHERE status <> 'resolved';
CREATE INDEX incidents_history ON incidents (declared_at DESC, id DESC);
CREATE INDEX incidents_resolved ON incidents (resolved_at DESC) WHERE status = 'resolved';
CREATE INDEX incidents_team ON incidents (team_id, declared_at DESC);
CREATE INDEX incidents_search ON incidents USING gin (search);

CREATE TABLE incident_services (
    incident_id  bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    service_id   bigint NOT NULL REFERENCES services (id),
    PRIMARY KEY (incident_id, service_id)
);
CREATE INDEX incident_services_service ON incident_services (service_id);

-- Who held which role when. The current holder has ended_at NULL.
CREATE TABLE incident_roles (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id  bigint      NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    role         text        NOT NULL CHECK (role IN ('point', 'comms', 'participant')),
    user_id      bigint      NOT NULL REFERENCES users (id),
    assigned_by  bigint      REFERENCES users (id),
    started_at   timestamptz NOT NULL DEFAULT now(),
    ended_at     timestamptz
);
CREATE UNIQUE INDEX incident_roles_one_holder
    ON incident_roles (incident_id, role) WHERE ended_at IS NULL AND role <> 'participant';
CREATE UNIQUE INDEX incident_roles_one_participation
    ON incident_roles (incident_id, user_id) WHERE ended_at IS NULL AND role = 'participant';
CREATE INDEX incident_roles_user ON incident_roles (user_id) WHERE ended_at IS NULL;

-- Append-only: entries are never deleted; a note's edits keep their history.
CREATE TABLE timeline_entries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id  bigint      NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    seq          bigint      NOT NULL,
    kind         text        NOT NULL,
    author_id    bigint      REFERENCES users (id),
    body         text        NOT NULL CHECK (length(body) <= 20000),
    is_key_event boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    edited_at    timestamptz,
    UNIQUE (incident_id, seq)
);

CREATE TABLE timeline_entry_revisions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id   bigint      NOT NULL REFERENCES timeline_entries (id) ON DELETE CASCADE,
    body       text        NOT NULL,
    edited_by  bigint      REFERENCES users (id),
    edited_at  timestamptz NOT NULL DEFAULT now()
);
