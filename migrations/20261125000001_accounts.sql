-- People, teams and services: what every later feature hangs off.

CREATE TABLE users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email           text        NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    display_name    text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    password_hash   text        NOT NULL,
    role            text        NOT NULL CHECK (role IN ('admin', 'responder', 'viewer')),
    active          boolean     NOT NULL DEFAULT true,
    -- Moves on when the user's sessions must end (deactivation, password change).
    session_epoch   integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE teams (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    lead_id     bigint      REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX teams_name_key ON teams (lower(name));

CREATE TABLE team_members (
    team_id  bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id  bigint NOT NULL REFERENCES users (id),
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE services (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    description  text        NOT NULL DEFAULT '',
    team_id      bigint      REFERENCES teams (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX services_name_key ON services (lower(name));

-- Failed sign-ins, for throttling password guessing (see app/src/server/throttle.rs).
CREATE TABLE sign_in_attempts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text        NOT NULL,
    ip         text        NOT NULL,
    succeeded  boolean     NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_attempts_email_at ON sign_in_attempts (email, at);
CREATE INDEX sign_in_attempts_ip_at ON sign_in_attempts (ip, at);
