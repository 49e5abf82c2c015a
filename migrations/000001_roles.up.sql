-- Roles and schemas. Roles are cluster-wide, so they are created only when
-- missing: several databases of one cluster (a test template and its copies,
-- say) share them.
--
--   rampart_owner   owns every object; migrations switch to it. It bypasses
--                   row-level security so that the security-definer
--                   functions it owns (the only doors into audit and auth
--                   tables) work on tables whose RLS is forced; it cannot
--                   log in.
--   rampart_api     the service's login. NOINHERIT and no table privileges
--                   of its own: a query that forgot to switch to a request
--                   role is refused, not served.
--   anon, authenticated, platform_admin
--                   the request roles, set per transaction.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'rampart_owner') then
    create role rampart_owner nologin bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'rampart_api') then
    create role rampart_api login noinherit nobypassrls nocreatedb nocreaterole;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'platform_admin') then
    create role platform_admin nologin;
  end if;
end
$$;

-- Roles made by an older install are brought to these attributes too.
alter role rampart_owner nologin bypassrls;
alter role rampart_api login noinherit nobypassrls nocreatedb nocreaterole
  nosuperuser;

grant anon, authenticated, platform_admin to rampart_api;
-- A platform admin is also an authenticated user: every policy written for
-- authenticated applies to admins too, and admin-only policies add to it.
grant authenticated to platform_admin;

-- The migrating login must be able to act as the owner.
do $$
begin
  execute format('grant rampart_owner to %I', current_user);
  execute format('grant create, connect on database %I to rampart_owner',
                 current_database());
  execute format('revoke create, temporary on database %I from public',
                 current_database());
end
$$;

-- Nothing of ours lives in public, and request roles must not reach the
-- migration bookkeeping table golang-migrate keeps there.
revoke all on schema public from public;

-- The service reads the schema version for its readiness check, and
-- nothing else in public.
do $$
begin
  if to_regclass('public.schema_migrations') is not null then
    grant usage on schema public to rampart_api;
    grant select on public.schema_migrations to rampart_api;
  end if;
end
$$;

set local role rampart_owner;

create schema auth;
create schema app;
create schema security;

grant usage on schema auth, app, security to anon, authenticated, platform_admin;

-- The request transaction's first round trip prepares its session check
-- before the role switch runs, so the login must be able to name the
-- function; executing it still needs the request role's grant.
grant usage on schema auth to rampart_api;
