set local role rampart_owner;

-- export_me returns everything held about the calling account, as JSON.
create function auth.export_me() returns jsonb
language sql stable security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'account', (select jsonb_build_object('id', u.id, 'email', u.email,
                  'platform_role', u.platform_role, 'status', u.status,
                  'created_at', u.created_at, 'updated_at', u.updated_at)
                from auth.users u where u.id = auth.uid()),
    'sessions', coalesce((select jsonb_agg(jsonb_build_object(
                  'id', s.id, 'ip', host(s.ip), 'user_agent', s.user_agent,
                  'created_at', s.created_at, 'last_seen_at', s.last_seen_at,
                  'revoked_at', s.revoked_at) order by s.created_at)
                from auth.sessions s where s.user_id = auth.uid()), '[]'),
    'memberships', coalesce((select jsonb_agg(jsonb_build_object(
                  'merchant_id', m.merchant_id, 'role', m.role,
                  'created_at', m.created_at) order by m.created_at)
                from app.merchant_members m where m.user_id = auth.uid()), '[]'),
    'second_factor', exists (select 1 from auth.mfa_factors f
                             where f.user_id = auth.uid()
                               and f.status = 'verified'))
  where auth.uid() is not null
$$;

-- erase_me erases the calling account: the email and password hash are
-- destroyed, memberships, factors and sessions go, and the row stays only
-- as an anonymous tombstone that rows written by the account still point
-- to. An owner of a merchant must hand it over first (returns 'owner').
create function auth.erase_me() returns text
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
begin
  if uid is null then
    return 'none';
  end if;
  if exists (select 1 from app.merchant_members m
             where m.user_id = uid and m.role = 'owner') then
    return 'owner';
  end if;
  delete from app.merchant_members where user_id = uid;
  delete from auth.mfa_factors where user_id = uid;
  delete from auth.mfa_recovery_codes where user_id = uid;
  update auth.sessions set revoked_at = now(), revoked_reason = 'account_erased',
    ip = null, user_agent = null
  where user_id = uid;
  update auth.users set email = 'erased-' || uid || '@erased.invalid',
    password_hash = '!', status = 'suspended', updated_at = now()
  where id = uid;
  perform pg_notify('rampart_blocks', 'user');
  return 'erased';
end
$$;

revoke execute on function auth.export_me(), auth.erase_me() from public;
grant execute on function auth.export_me(), auth.erase_me() to authenticated;
