set local role rampart_owner;

-- Wrong second-factor codes are also counted per account. A challenge dies
-- after 5 wrong codes, but each new sign-in opens a new challenge, so
-- someone who knows the password could keep guessing five codes a session.
-- Every wrong code (TOTP or recovery) is now logged per user, and every
-- verification first takes the user's row lock and counts that log: from
-- 20 wrong codes in the last hour on, every session of the account is
-- refused ('locked') without its code being looked at, until the oldest of
-- those 20 is an hour old. Only codes that were checked and wrong count, so
-- refused attempts do not extend the lock; and because the count is taken
-- at every guess under the lock, neither many sessions nor parallel
-- requests buy extra guesses. The 20th wrong code raises mfa_guessing
-- (high). The account is not suspended: the guesses are the attacker's.
create table auth.mfa_failures (
  id      bigint generated always as identity primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  at      timestamptz not null default now()
);

create index mfa_failures_user_at on auth.mfa_failures (user_id, at);

-- No request role reads or writes it; the functions below run as owner.
alter table auth.mfa_failures enable row level security;
alter table auth.mfa_failures force row level security;

-- mfa_account_locked serialises the second-factor checks of one user (the
-- user's row lock, held to the end of the transaction) and reports whether
-- the account has used up its wrong codes for the hour.
create function auth.mfa_account_locked(p_user uuid) returns boolean
language plpgsql volatile
set search_path = ''
as $$
begin
  perform 1 from auth.users u where u.id = p_user for update;
  return (select count(*) from auth.mfa_failures f
          where f.user_id = p_user and f.at > now() - interval '1 hour') >= 20;
end
$$;

-- mfa_fail counts a wrong code against the session's challenge and the
-- account. It answers 'invalid', or 'locked' when the code was the
-- challenge's fifth or the account's twentieth in an hour.
create or replace function auth.mfa_fail(p_challenge bigint) returns text
language plpgsql volatile
set search_path = ''
as $$
declare
  n integer;
  uid uuid;
  recent bigint;
begin
  update auth.mfa_challenges set attempts = attempts + 1
  where id = p_challenge
  returning attempts, user_id into n, uid;
  insert into auth.mfa_failures (user_id) values (uid);
  select count(*) into recent from auth.mfa_failures f
  where f.user_id = uid and f.at > now() - interval '1 hour';
  if recent = 20 then
    perform security.log_security_event('mfa_guessing', 'high',
      jsonb_build_object('wrong_codes', recent), null);
  end if;
  if n >= 5 then
    perform security.log_security_event('mfa_challenge_locked', 'medium',
      jsonb_build_object('challenge', p_challenge), null);
  end if;
  if n >= 5 or recent >= 20 then
    return 'locked';
  end if;
  return 'invalid';
end
$$;

create or replace function auth.mfa_verify_totp(p_factor_id uuid, p_proof bytea,
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
  -- The session row first (the request's session check may hold it
  -- already), then the user's: one lock order for every check.
  ch := auth.mfa_challenge(uid, sid);
  if auth.mfa_account_locked(uid) or ch.attempts >= 5 then
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


create or replace function auth.mfa_use_recovery(p_code_hash bytea)
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
  -- The session row first (the request's session check may hold it
  -- already), then the user's: one lock order for every check.
  ch := auth.mfa_challenge(uid, sid);
  if auth.mfa_account_locked(uid) or ch.attempts >= 5 then
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


revoke execute on function auth.mfa_account_locked(uuid) from public;
