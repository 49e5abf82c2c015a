set local role rampart_owner;

-- Wrong second-factor codes are also counted per account. A challenge dies
-- after 5 wrong codes, but each new sign-in opened a new challenge, so
-- someone who knows the password could keep guessing codes five at a time.
-- Now the wrong codes of all of an account's sessions in the last hour are
-- added up (per session, the most its challenges reached, since an expired
-- challenge hands its count to the next); from 20 on, a new challenge is
-- born dead and an mfa_guessing event (high) is raised. The owner signs in
-- again after the hour; the account itself is not suspended, because the
-- guesses are the attacker's.
create or replace function auth.mfa_challenge(p_user uuid, p_session uuid)
returns auth.mfa_challenges
language plpgsql volatile
set search_path = ''
as $$
declare
  ch auth.mfa_challenges%rowtype;
  carried integer := 0;
  recent bigint;
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

  select coalesce(sum(per_session.most), 0) into recent
  from (select max(c.attempts) as most
        from auth.mfa_challenges c
        where c.user_id = p_user and c.created_at > now() - interval '1 hour'
        group by c.session_id) per_session;
  if recent >= 20 then
    carried := 5;
    perform security.log_security_event('mfa_guessing', 'high', '{}'::jsonb,
                                        null);
  end if;

  insert into auth.mfa_challenges (user_id, session_id, attempts, expires_at)
  values (p_user, p_session, carried, now() + interval '5 minutes')
  returning * into ch;
  return ch;
end
$$;

create index mfa_challenges_user_recent
  on auth.mfa_challenges (user_id, created_at);
