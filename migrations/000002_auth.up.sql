set local role rampart_owner;

-- Claims helpers. The service writes the verified token claims into the
-- transaction-local setting request.jwt.claims; policies read them through
-- these functions. Each fails closed: a missing, empty, malformed or
-- non-object setting reads as NULL, which matches no row, and never raises,
-- so a bad setting cannot turn into an error storm either.
create function auth.jwt() returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  raw text := current_setting('request.jwt.claims', true);
  claims jsonb;
begin
  if raw is null or raw = '' then
    return null;
  end if;
  claims := raw::jsonb;
  if jsonb_typeof(claims) <> 'object' then
    return null;
  end if;
  return claims;
exception when others then
  return null;
end
$$;

create function auth.uid() returns uuid
language sql stable
set search_path = ''
as $$
  select case
    when c ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    then c::uuid
  end
  from (select auth.jwt() ->> 'sub' as c) s
$$;

create function auth.role() returns text
language sql stable
set search_path = ''
as $$
  select auth.jwt() ->> 'role'
$$;

create function auth.aal() returns text
language sql stable
set search_path = ''
as $$
  select case when auth.jwt() ->> 'aal' in ('aal1', 'aal2')
              then auth.jwt() ->> 'aal' end
$$;

create function auth.session_id() returns uuid
language sql stable
set search_path = ''
as $$
  select case
    when c ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    then c::uuid
  end
  from (select auth.jwt() ->> 'session_id' as c) s
$$;

grant execute on function auth.jwt(), auth.uid(), auth.role(), auth.aal(),
  auth.session_id() to anon, authenticated, platform_admin;

create table auth.users (
  id            uuid primary key default gen_random_uuid(),
  -- Normalised once at the edge (NFKC, case-folded); unique as stored.
  email         text not null unique check (length(email) between 3 and 254),
  password_hash text not null,
  platform_role text not null default 'user'
                check (platform_role in ('user', 'platform_admin')),
  status        text not null default 'active'
                check (status in ('active', 'suspended')),
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);

create table auth.sessions (
  id             uuid primary key default gen_random_uuid(),
  user_id        uuid not null references auth.users (id) on delete cascade,
  aal            text not null default 'aal1' check (aal in ('aal1', 'aal2')),
  aal_at         timestamptz,
  ip             inet,
  user_agent     text check (length(user_agent) <= 512),
  created_at     timestamptz not null default now(),
  last_seen_at   timestamptz not null default now(),
  idle_timeout   interval not null,
  expires_at     timestamptz not null,
  revoked_at     timestamptz,
  revoked_reason text
);

-- Listing and revoking a user's live sessions.
create index sessions_user_live on auth.sessions (user_id)
  where revoked_at is null;

-- Refresh tokens form one family per session: each use rotates the token,
-- and presenting a used one again revokes the session.
create table auth.refresh_tokens (
  id         bigint generated always as identity primary key,
  session_id uuid not null references auth.sessions (id) on delete cascade,
  token_hash bytea not null unique,
  parent_id  bigint references auth.refresh_tokens (id) on delete cascade,
  created_at timestamptz not null default now(),
  used_at    timestamptz
);

create index refresh_tokens_session on auth.refresh_tokens (session_id);
create index refresh_tokens_parent on auth.refresh_tokens (parent_id);

alter table auth.users enable row level security;
alter table auth.users force row level security;
alter table auth.sessions enable row level security;
alter table auth.sessions force row level security;
alter table auth.refresh_tokens enable row level security;
alter table auth.refresh_tokens force row level security;

-- A user sees their own account; platform admins see every account. The
-- password hash is readable by no request role.
grant select (id, email, platform_role, status, created_at, updated_at)
  on auth.users to authenticated;

create policy users_select_self on auth.users
  for select to authenticated
  using (id = (select auth.uid()));

create policy users_select_admin on auth.users
  for select to platform_admin
  using (true);

grant select (id, user_id, aal, aal_at, ip, user_agent, created_at,
              last_seen_at, expires_at, revoked_at)
  on auth.sessions to authenticated;

create policy sessions_select_self on auth.sessions
  for select to authenticated
  using (user_id = (select auth.uid()));

-- refresh_tokens: no grant and no policy for any request role; only the
-- security-definer functions below touch it.

-- register_user creates an account and returns its id, or NULL when the
-- email is taken (the caller answers generically either way).
create function auth.register_user(p_email text, p_password_hash text)
returns uuid
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  new_id uuid;
begin
  insert into auth.users (email, password_hash)
  values (p_email, p_password_hash)
  on conflict (email) do nothing
  returning id into new_id;
  return new_id;
end
$$;

-- login_candidate returns what a password check needs for one exact email.
create function auth.login_candidate(p_email text)
returns table (user_id uuid, password_hash text, status text,
               platform_role text)
language sql stable security definer
set search_path = ''
as $$
  select u.id, u.password_hash, u.status, u.platform_role
  from auth.users u
  where u.email = p_email
$$;

-- rehash_password stores a stronger hash for the calling user after a
-- successful login. It takes the user from the claims, never a parameter,
-- so a caller that can only act as anon cannot replace anyone's hash.
create function auth.rehash_password(p_old_hash text, p_new_hash text)
returns void
language sql volatile security definer
set search_path = ''
as $$
  update auth.users
  set password_hash = p_new_hash, updated_at = now()
  where id = auth.uid() and password_hash = p_old_hash
$$;

-- open_session starts a session for an active user with its first refresh
-- token and returns the session id, or NULL when the user is not active.
-- The service calls it only after checking the password. Refresh token
-- hashes are keyed with a secret only the service holds, so a caller that
-- reaches this function directly cannot mint a token it could later use.
create function auth.open_session(p_user_id uuid, p_refresh_hash bytea,
                                  p_ip inet, p_user_agent text,
                                  p_idle interval, p_lifetime interval)
returns uuid
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  sid uuid;
begin
  insert into auth.sessions (user_id, ip, user_agent, idle_timeout,
                             expires_at)
  select u.id, p_ip, left(p_user_agent, 512), p_idle, now() + p_lifetime
  from auth.users u
  where u.id = p_user_id and u.status = 'active'
  returning id into sid;

  if sid is not null then
    insert into auth.refresh_tokens (session_id, token_hash)
    values (sid, p_refresh_hash);
  end if;
  return sid;
end
$$;

-- rotate_refresh exchanges a refresh token for a new one. Outcomes:
--   ok      the token was live: it is now used and p_new_hash replaces it;
--   reused  the token was already used outside the grace window: the whole
--           session is revoked, since either the client or a thief holds a
--           stale copy;
--   invalid unknown token, or a revoked, expired or suspended session.
-- A token presented again within p_grace of its first use (parallel
-- refreshes from one client) is answered ok with the same successor.
create function auth.rotate_refresh(p_old_hash bytea, p_new_hash bytea,
                                    p_grace interval)
returns table (outcome text, session_id uuid, user_id uuid,
               platform_role text, aal text, aal_at timestamptz)
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  t auth.refresh_tokens%rowtype;
  s auth.sessions%rowtype;
  u auth.users%rowtype;
begin
  select * into t from auth.refresh_tokens r
  where r.token_hash = p_old_hash
  for update;
  if not found then
    return query select 'invalid'::text, null::uuid, null::uuid, null::text,
                        null::text, null::timestamptz;
    return;
  end if;

  select * into s from auth.sessions x where x.id = t.session_id for update;
  select * into u from auth.users x where x.id = s.user_id;

  if s.revoked_at is not null or s.expires_at <= now()
     or s.last_seen_at + s.idle_timeout <= now() or u.status <> 'active' then
    return query select 'invalid'::text, s.id, s.user_id, null::text,
                        null::text, null::timestamptz;
    return;
  end if;

  if t.used_at is not null and t.used_at < now() - p_grace then
    update auth.sessions
    set revoked_at = now(), revoked_reason = 'refresh_token_reuse'
    where id = s.id;
    return query select 'reused'::text, s.id, s.user_id, null::text,
                        null::text, null::timestamptz;
    return;
  end if;

  -- The successor is derived from the token by the service, so a parallel
  -- refresh within the grace window names the same successor, which then
  -- exists already: both callers end up holding one live token.
  update auth.refresh_tokens set used_at = coalesce(used_at, now())
  where id = t.id;
  insert into auth.refresh_tokens (session_id, token_hash, parent_id)
  values (s.id, p_new_hash, t.id)
  on conflict (token_hash) do nothing;
  update auth.sessions set last_seen_at = now() where id = s.id;

  -- The level never rises on refresh; it is carried as the session has it.
  return query select 'ok'::text, s.id, s.user_id, u.platform_role, s.aal,
                      s.aal_at;
end
$$;

-- session_ok tells whether the session named in the claims is live: it
-- belongs to the claimed user, is neither revoked, expired nor idle, and
-- the user is active. It records activity at most once a minute so a busy
-- client does not write on every request.
create function auth.session_ok() returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  sid uuid := auth.session_id();
  uid uuid := auth.uid();
  seen timestamptz;
begin
  if sid is null or uid is null then
    return false;
  end if;

  select s.last_seen_at into seen
  from auth.sessions s
  join auth.users u on u.id = s.user_id
  where s.id = sid and s.user_id = uid and s.revoked_at is null
    and s.expires_at > now() and s.last_seen_at + s.idle_timeout > now()
    and u.status = 'active';
  if not found then
    return false;
  end if;

  if seen < now() - interval '1 minute' then
    update auth.sessions set last_seen_at = now() where id = sid;
  end if;
  return true;
end
$$;

-- revoke_session ends one of the caller's sessions (the current one when
-- p_session_id is NULL) and returns whether a live session was revoked.
create function auth.revoke_session(p_session_id uuid, p_reason text)
returns boolean
language sql volatile security definer
set search_path = ''
as $$
  with r as (
    update auth.sessions
    set revoked_at = now(), revoked_reason = left(p_reason, 64)
    where id = coalesce(p_session_id, auth.session_id())
      and user_id = auth.uid() and revoked_at is null
    returning 1
  )
  select exists (select 1 from r)
$$;

-- revoke_all_sessions ends every session of the caller and returns how many.
create function auth.revoke_all_sessions(p_reason text) returns integer
language sql volatile security definer
set search_path = ''
as $$
  with r as (
    update auth.sessions
    set revoked_at = now(), revoked_reason = left(p_reason, 64)
    where user_id = auth.uid() and revoked_at is null
    returning 1
  )
  select count(*)::integer from r
$$;

revoke execute on all functions in schema auth from public;
grant execute on function auth.jwt(), auth.uid(), auth.role(), auth.aal(),
  auth.session_id() to anon, authenticated, platform_admin;
grant execute on function auth.register_user(text, text),
  auth.login_candidate(text), auth.open_session(uuid, bytea, inet, text,
  interval, interval), auth.rotate_refresh(bytea, bytea, interval)
  to anon;
grant execute on function auth.session_ok(), auth.revoke_session(uuid, text),
  auth.revoke_all_sessions(text), auth.rehash_password(text, text)
  to authenticated;
