set local role rampart_owner;

create or replace function auth.mfa_fail(p_challenge bigint) returns text
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


drop function auth.mfa_account_locked(uuid);
drop table auth.mfa_failures;
