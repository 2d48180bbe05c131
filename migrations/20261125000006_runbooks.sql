-- Runbooks: versioned documents linked to services, reviewed on an interval, drilled.

CREATE TABLE runbooks (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title                 text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body                  text        NOT NULL DEFAULT '' CHECK (length(body) <= 100000),
    team_id               bigint      REFERENCES teams (id),
    review_interval_days  integer     NOT NULL DEFAULT 90 CHECK (review_interval_days BETWEEN 1 AND 3650),
    last_reviewed_at      timestamptz,
    last_reviewed_by      bigint      REFERENCES users (id),
    -- A save names the version it was based on; a stale one is refused.
    version               integer     NOT NULL DEFAULT 1,
    created_by            bigint      REFERENCES users (id),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_by            bigint      REFERENCES users (id),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    search                tsvector GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || body)) STORED
);
CREATE INDEX runbooks_search ON runbooks USING gin (search);

CREATE TABLE runbook_services (
    runbook_id  bigint NOT NULL REFERENCES runbooks (id) ON DELETE CASCADE,
    service_id  bigint NOT NULL REFERENCES services (id),
    PRIMARY KEY (runbook_id, service_id)
);
CREATE INDEX runbook_services_service ON runbook_services (service_id);

-- Every saved version, never changed or deleted.
CREATE TABLE runbook_versions (
    runbook_id  bigint      NOT NULL REFERENCES runbooks (id) ON DELETE CASCADE,
    version     integer     NOT NULL,
    title       text        NOT NULL,
    body        text        NOT NULL,
    author_id   bigint      REFERENCES users (id),
    saved_at    timestamptz NOT NULL DEFAULT now(),
    note        text        NOT NULL DEFAULT '',
    PRIMARY KEY (runbook_id, version)
);

-- Runbooks attached to an incident by hand (its services' runbooks are found through them).
CREATE TABLE incident_runbooks (
    incident_id  bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    runbook_id   bigint NOT NULL REFERENCES runbooks (id) ON DELETE CASCADE,
    attached_by  bigint REFERENCES users (id),
    attached_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (incident_id, runbook_id)
);

-- Each drill of a runbook: the drill incident it started.
CREATE TABLE runbook_drills (
    runbook_id  bigint      NOT NULL REFERENCES runbooks (id) ON DELETE CASCADE,
    incident_id bigint      NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    started_by  bigint      REFERENCES users (id),
    started_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (runbook_id, incident_id)
);
CREATE INDEX runbook_drills_latest ON runbook_drills (runbook_id, started_at DESC);
