-- Schemas go; the roles stay, because other databases of the cluster may
-- still use them (drop them by hand once no database does).
drop schema if exists security cascade;
drop schema if exists app cascade;
drop schema if exists auth cascade;
grant usage on schema public to public;
