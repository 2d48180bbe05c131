-- Single sign-on: the identity provider's subject a user is linked to (set at their
-- first sign-in through the provider). A user created by single sign-on has no
-- password (an empty hash, which no password matches).
ALTER TABLE users
    ADD COLUMN oidc_issuer  text,
    ADD COLUMN oidc_subject text;
CREATE UNIQUE INDEX users_oidc_subject ON users (oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL;
