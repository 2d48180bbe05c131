-- Postmortems: one per incident, every saved version kept, and the meeting to talk it through.

CREATE TABLE postmortems (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id             bigint      NOT NULL UNIQUE REFERENCES incidents (id) ON DELETE CASCADE,
    team_id                 bigint      REFERENCES teams (id),
    status                  text        NOT NULL DEFAULT 'draft'
                            CHECK (status IN ('draft', 'in_review', 'published')),
    -- The current version; a save names the version it was based on and is refused
    -- unless that is still this one.
    version                 integer     NOT NULL DEFAULT 1,
    -- The current text, one key per section (a copy of the latest version's).
    sections                jsonb       NOT NULL,
    no_action_items_reason  text        NOT NULL DEFAULT '' CHECK (length(no_action_items_reason) <= 2000),
    meeting_at              timestamptz,
    meeting_place           text        NOT NULL DEFAULT '' CHECK (length(meeting_place) <= 500),
    -- iCalendar SEQUENCE of the meeting: bumped on every reschedule so calendars update.
    meeting_sequence        integer     NOT NULL DEFAULT 0,
    created_by              bigint      REFERENCES users (id),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_by              bigint      REFERENCES users (id),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    published_at            timestamptz,
    -- The last change after publication: shown as "updated".
    corrected_at            timestamptz,
    -- Only the string values of the sections are indexed, not their keys.
    search                  tsvector GENERATED ALWAYS AS (to_tsvector('english', sections)) STORED
);
CREATE INDEX postmortems_list ON postmortems (created_at DESC);
CREATE INDEX postmortems_meetings ON postmortems (meeting_at) WHERE meeting_at IS NOT NULL;
CREATE INDEX postmortems_search ON postmortems USING gin (search);

-- Every saved version, never changed or deleted. Restoring an old one adds a new one.
CREATE TABLE postmortem_versions (
    postmortem_id  bigint      NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    version        integer     NOT NULL,
    sections       jsonb       NOT NULL,
    author_id      bigint      REFERENCES users (id),
    saved_at       timestamptz NOT NULL DEFAULT now(),
    note           text        NOT NULL DEFAULT '',
    PRIMARY KEY (postmortem_id, version)
);

-- Who moved it between draft, in review and published, and when.
CREATE TABLE postmortem_status_moves (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    postmortem_id  bigint      NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    from_status    text        NOT NULL,
    to_status      text        NOT NULL,
    moved_by       bigint      REFERENCES users (id),
    moved_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX postmortem_status_moves_pm ON postmortem_status_moves (postmortem_id, moved_at);

CREATE TABLE postmortem_attendees (
    postmortem_id  bigint NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    user_id        bigint NOT NULL REFERENCES users (id),
    PRIMARY KEY (postmortem_id, user_id)
);

-- The secret in a person's calendar-feed address (calendar apps cannot sign in).
CREATE TABLE calendar_keys (
    user_id  bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    key      text   NOT NULL UNIQUE
);
