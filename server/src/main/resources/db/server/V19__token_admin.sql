-- Namespace tokens get a role (member or admin: an admin mints, lists and revokes its namespace's tokens), an optional
-- expiry and a description. Existing namespace tokens are members that do not expire.
ALTER TABLE tokens ADD COLUMN role TEXT CHECK (role IN ('member', 'admin'));
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE tokens ADD COLUMN description TEXT;
UPDATE tokens SET role = 'member' WHERE scope = 'namespace';
