-- One-time codes that allow creating the first administrator (see db::setup).
-- Each starting instance of an empty Foghorn adds one and prints it; any of them
-- is accepted, and all are deleted when the first administrator is created.
CREATE TABLE setup_codes (
    code_sha256  text        PRIMARY KEY,
    created_at   timestamptz NOT NULL DEFAULT now()
);
