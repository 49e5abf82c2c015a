set local role rampart_owner;

-- TOTP second factor. No request role holds a privilege on these tables:
-- every read and write goes through the security-definer functions below,
-- which take the user from auth.uid() and the session from
-- auth.session_id(), never from a parameter.

-- A user has at most one pending and one verified factor. The TOTP secret
-- is sealed in Go with the PII keyring (AAD "mfa_factors.secret|<id>"), so
-- a dump cannot mint codes. The database cannot compute a code either, so
-- it cannot check one: the service checks the code and proves to the
-- database that it holds the opened secret by sending a proof derived from
-- it; secret_check is the SHA-256 of that proof. An injected statement in a
-- request transaction knows neither, so it cannot lift a session.
-- last_used_step is the newest 30-second step accepted, so a code is
-- accepted once.
create table auth.mfa_factors (
  id             uuid primary key,
  user_id        uuid not null references auth.users (id) on delete cascade,
  secret_sealed  bytea not null,
  secret_check   bytea not null check (length(secret_check) = 32),
  status         text not null default 'pending'
                 check (status in ('pending', 'verified')),
  created_at     timestamptz not null default now(),
  verified_at    timestamptz,
  last_used_step bigint,
  check ((status = 'verified') = (verified_at is not null))
);

-- Serves the per-user lookups and holds one factor of each status.
create unique index mfa_factors_user_status
  on auth.mfa_factors (user_id, status);

-- Ten single-use codes, issued when a factor is verified. code_hash is an
-- HMAC-SHA256 keyed with a service secret, so the table alone does not let
-- anyone test guesses offline.
create table auth.mfa_recovery_codes (
  user_id    uuid not null references auth.users (id) on delete cascade,
  code_hash  bytea not null check (length(code_hash) = 32),
  created_at timestamptz not null default now(),
  used_at    timestamptz,
  primary key (user_id, code_hash)
);

-- A challenge counts the wrong codes one session presents. It opens on the
-- first code, closes (consumed_at) when a code is accepted, and dies at 5
-- wrong codes: a dead challenge is never replaced, so the session can no
-- longer reach aal2 and the user must sign in again. An expired challenge
-- is replaced by one that carries its count, so waiting does not buy more
-- guesses. The id orders a session's challenges: they are created under
-- the session's row lock, so the newest is the current one.
create table auth.mfa_challenges (
  id          bigint generated always as identity primary key,
  user_id     uuid not null references auth.users (id) on delete cascade,
  session_id  uuid not null references auth.sessions (id) on delete cascade,
  attempts    integer not null default 0 check (attempts between 0 and 5),
  created_at  timestamptz not null default now(),
  expires_at  timestamptz not null,
  consumed_at timestamptz
);

create index mfa_challenges_session
  on auth.mfa_challenges (session_id, id desc);
-- Deleting a user cascades here.
create index mfa_challenges_user on auth.mfa_challenges (user_id);

alter table auth.mfa_factors enable row level security;
alter table auth.mfa_factors force row level security;
alter table auth.mfa_recovery_codes enable row level security;
alter table auth.mfa_recovery_codes force row level security;
alter table auth.mfa_challenges enable row level security;
alter table auth.mfa_challenges force row level security;

-- elevate_session lifts the caller's session to aal2 now and returns the
-- time. It is not a security definer and no role may execute it: only the
-- verify functions below, running as the owner, call it.
create function auth.elevate_session() returns timestamptz
language sql volatile
set search_path = ''
as $$
  update auth.sessions
  set aal = 'aal2', aal_at = now()
  where id = auth.session_id() and user_id = auth.uid()
    and revoked_at is null
  returning aal_at
$$;

-- mfa_challenge returns the session's current challenge, opening one when
-- there is none or the last was consumed or expired. It locks the session
-- row first, so one session's verifications run one at a time and every
-- wrong code is counted exactly once.
create function auth.mfa_challenge(p_user uuid, p_session uuid)
returns auth.mfa_challenges
language plpgsql volatile
set search_path = ''
as $$
declare
  ch auth.mfa_challenges%rowtype;
  carried integer := 0;
begin
  perform 1 from auth.sessions s where s.id = p_session for update;

  select * into ch from auth.mfa_challenges c
  where c.session_id = p_session
  order by c.id desc
  limit 1;
  if found and ch.consumed_at is null then
    if ch.attempts >= 5 or ch.expires_at > now() then
      return ch;
    end if;
    carried := ch.attempts;
  end if;

  insert into auth.mfa_challenges (user_id, session_id, attempts, expires_at)
  values (p_user, p_session, carried, now() + interval '5 minutes')
  returning * into ch;
  return ch;
end
$$;

-- mfa_fail counts a wrong code and answers 'invalid', or 'locked' when it
-- was the fifth; a dying challenge is recorded as a security event.
create function auth.mfa_fail(p_challenge bigint) returns text
language plpgsql volatile
set search_path = ''
as $$
declare
  n integer;
begin
  update auth.mfa_challenges set attempts = attempts + 1
  where id = p_challenge
  returning attempts into n;
  if n < 5 then
    return 'invalid';
  end if;
  perform security.log_security_event('mfa_challenge_locked', 'medium',
    jsonb_build_object('challenge', p_challenge), null);
  return 'locked';
end
$$;

-- mfa_enroll stores a new pending factor for the caller, replacing a
-- pending one. It answers 'ok', or 'verified_exists' when the caller
-- already has a verified factor (which must be disabled first).
create function auth.mfa_enroll(p_factor_id uuid, p_secret_sealed bytea,
                                p_secret_check bytea)
returns text
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
begin
  if uid is null then
    return 'unauthenticated';
  end if;
  -- Serialises enrolments of one user.
  perform 1 from auth.users u where u.id = uid for update;
  if exists (select 1 from auth.mfa_factors f
             where f.user_id = uid and f.status = 'verified') then
    return 'verified_exists';
  end if;

  delete from auth.mfa_factors f where f.user_id = uid and f.status = 'pending';
  insert into auth.mfa_factors (id, user_id, secret_sealed, secret_check)
  values (p_factor_id, uid, p_secret_sealed, p_secret_check);
  return 'ok';
end
$$;

-- mfa_factor returns one of the caller's factors with its sealed secret:
-- the one named, or else the verified one, or else the pending one.
-- Another user's factor id returns nothing, like an unknown one.
create function auth.mfa_factor(p_factor_id uuid)
returns table (id uuid, status text, secret_sealed bytea)
language sql stable security definer
set search_path = ''
as $$
  select f.id, f.status, f.secret_sealed
  from auth.mfa_factors f
  where f.user_id = auth.uid()
    and (p_factor_id is null or f.id = p_factor_id)
  order by f.status = 'verified' desc
  limit 1
$$;

-- mfa_verify_totp records the service's verdict on a code for the caller's
-- factor in the caller's session. p_proof proves the service opened the
-- secret; p_step is the step the code matched, or NULL for a wrong code.
-- A step at or before the last accepted one is a replay and counts as
-- wrong, as does a step more than two steps from the database's clock.
-- Verifying a pending factor activates it and replaces the caller's
-- recovery codes with p_recovery_hashes (exactly ten). Outcomes: 'ok',
-- 'activated', 'invalid', 'locked', 'not_found', 'unauthenticated'; on
-- 'ok' and 'activated' the session is at aal2 as of aal_at.
create function auth.mfa_verify_totp(p_factor_id uuid, p_proof bytea,
                                     p_step bigint,
                                     p_recovery_hashes bytea[])
returns table (outcome text, aal_at timestamptz)
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  sid uuid := auth.session_id();
  ch auth.mfa_challenges%rowtype;
  f auth.mfa_factors%rowtype;
  now_step bigint := floor(extract(epoch from now()) / 30)::bigint;
begin
  if uid is null or sid is null then
    return query select 'unauthenticated'::text, null::timestamptz;
    return;
  end if;
  ch := auth.mfa_challenge(uid, sid);
  if ch.attempts >= 5 then
    return query select 'locked'::text, null::timestamptz;
    return;
  end if;

  select * into f from auth.mfa_factors x
  where x.id = p_factor_id and x.user_id = uid
  for update;
  if not found then
    return query select 'not_found'::text, null::timestamptz;
    return;
  end if;

  if p_step is null or p_proof is null
     or pg_catalog.sha256(p_proof) <> f.secret_check
     or p_step <= coalesce(f.last_used_step, -1)
     or abs(p_step - now_step) > 2 then
    return query select auth.mfa_fail(ch.id), null::timestamptz;
    return;
  end if;

  if f.status = 'pending' then
    if cardinality(p_recovery_hashes) is distinct from 10 then
      raise exception 'activation needs ten recovery code hashes'
        using errcode = '22023';
    end if;
    delete from auth.mfa_recovery_codes r where r.user_id = uid;
    insert into auth.mfa_recovery_codes (user_id, code_hash)
    select uid, h from unnest(p_recovery_hashes) h;
  end if;

  update auth.mfa_factors
  set last_used_step = p_step, status = 'verified',
      verified_at = coalesce(verified_at, now())
  where id = f.id;
  update auth.mfa_challenges set consumed_at = now() where id = ch.id;
  return query select case when f.status = 'pending' then 'activated'
                           else 'ok' end,
                      auth.elevate_session();
end
$$;

-- mfa_use_recovery spends one of the caller's unused recovery codes,
-- matched by its keyed hash, and lifts the session to aal2. A code that
-- does not match counts as a wrong code of the session's challenge.
-- Outcomes: 'ok' (with the codes left), 'invalid', 'locked',
-- 'unauthenticated'.
create function auth.mfa_use_recovery(p_code_hash bytea)
returns table (outcome text, aal_at timestamptz, codes_left integer)
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  sid uuid := auth.session_id();
  ch auth.mfa_challenges%rowtype;
begin
  if uid is null or sid is null then
    return query select 'unauthenticated'::text, null::timestamptz, 0;
    return;
  end if;
  ch := auth.mfa_challenge(uid, sid);
  if ch.attempts >= 5 then
    return query select 'locked'::text, null::timestamptz, 0;
    return;
  end if;

  update auth.mfa_recovery_codes r set used_at = now()
  where r.user_id = uid and r.code_hash = p_code_hash and r.used_at is null
    and exists (select 1 from auth.mfa_factors f
                where f.user_id = uid and f.status = 'verified');
  if not found then
    return query select auth.mfa_fail(ch.id), null::timestamptz, 0;
    return;
  end if;

  update auth.mfa_challenges set consumed_at = now() where id = ch.id;
  return query
  select 'ok'::text, auth.elevate_session(),
         (select count(*)::integer from auth.mfa_recovery_codes r
          where r.user_id = uid and r.used_at is null);
end
$$;

-- mfa_disable removes the caller's factors and recovery codes. It needs
-- the session itself (not the token's claims) at aal2 within 15 minutes.
-- Outcomes: 'ok', 'mfa_required', 'not_found'. Sessions keep their level.
create function auth.mfa_disable() returns text
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  n integer;
begin
  if not exists (select 1 from auth.sessions s
                 where s.id = auth.session_id() and s.user_id = uid
                   and s.aal = 'aal2'
                   and s.aal_at > now() - interval '15 minutes') then
    return 'mfa_required';
  end if;

  delete from auth.mfa_factors f where f.user_id = uid;
  get diagnostics n = row_count;
  delete from auth.mfa_recovery_codes r where r.user_id = uid;
  if n = 0 then
    return 'not_found';
  end if;
  perform security.log_security_event('mfa_disabled', 'low', '{}'::jsonb,
                                      null);
  return 'ok';
end
$$;

revoke execute on function auth.elevate_session(),
  auth.mfa_challenge(uuid, uuid), auth.mfa_fail(bigint),
  auth.mfa_enroll(uuid, bytea, bytea), auth.mfa_factor(uuid),
  auth.mfa_verify_totp(uuid, bytea, bigint, bytea[]),
  auth.mfa_use_recovery(bytea), auth.mfa_disable()
  from public;
grant execute on function auth.mfa_enroll(uuid, bytea, bytea),
  auth.mfa_factor(uuid),
  auth.mfa_verify_totp(uuid, bytea, bigint, bytea[]),
  auth.mfa_use_recovery(bytea), auth.mfa_disable()
  to authenticated;
