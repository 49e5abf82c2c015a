set local role rampart_owner;

drop index if exists auth.mfa_challenges_user_recent;

create or replace function auth.mfa_challenge(p_user uuid, p_session uuid)
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
