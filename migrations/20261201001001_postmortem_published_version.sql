-- The version that was published. Readers who may not edit a postmortem read this
-- version and the corrections saved after it; the drafts before it stay with the
-- responders.
ALTER TABLE postmortems ADD COLUMN published_version integer;

-- Already published: the last version saved before publishing (else the current one).
UPDATE postmortems p
   SET published_version = COALESCE(
         (SELECT max(v.version) FROM postmortem_versions v
           WHERE v.postmortem_id = p.id AND v.saved_at <= p.published_at),
         p.version)
 WHERE p.status = 'published';

ALTER TABLE postmortems ADD CONSTRAINT postmortems_published_version
    CHECK ((status = 'published') = (published_version IS NOT NULL));
