-- Action items: the remediation work an incident leaves behind, and every change to it.
-- An item belongs to an incident, and through it to that incident's postmortem.

CREATE TABLE action_items (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id     bigint      NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    title           text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description     text        NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    owner_id        bigint      REFERENCES users (id),
    team_id         bigint      REFERENCES teams (id),
    priority        smallint    NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 3),
    due_date        date,
    status          text        NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'in_progress', 'done', 'wont_do')),
    wont_do_reason  text        NOT NULL DEFAULT '',
    created_by      bigint      REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- When it was closed (done or won't do); cleared if it is reopened.
    closed_at       timestamptz,
    CHECK (status <> 'wont_do' OR length(trim(wont_do_reason)) > 0)
);
CREATE INDEX action_items_incident ON action_items (incident_id);
CREATE INDEX action_items_team ON action_items (team_id, status);
CREATE INDEX action_items_owner ON action_items (owner_id, status);

-- Who changed what on an item, and when.
CREATE TABLE action_item_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id     bigint      NOT NULL REFERENCES action_items (id) ON DELETE CASCADE,
    field       text        NOT NULL,
    old_value   text        NOT NULL DEFAULT '',
    new_value   text        NOT NULL DEFAULT '',
    changed_by  bigint      REFERENCES users (id),
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX action_item_changes_item ON action_item_changes (item_id, changed_at);
