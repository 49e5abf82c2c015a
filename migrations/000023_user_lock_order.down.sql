set local role rampart_owner;

create or replace function security.suspend_user(p_user_id uuid, p_reason text)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  update auth.users set status = 'suspended', updated_at = now()
  where id = p_user_id and status = 'active';
  if not found then
    return false;
  end if;
  update auth.sessions set revoked_at = now(),
    revoked_reason = left('suspended: ' || p_reason, 64)
  where user_id = p_user_id and revoked_at is null;
  perform pg_notify('rampart_blocks', 'user');
  return true;
end
$$;

create or replace function auth.erase_me() returns text
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
    email_skeleton = null, password_hash = '!', status = 'suspended',
    updated_at = now()
  where id = uid;
  perform pg_notify('rampart_blocks', 'user');
  return 'erased';
end
$$;
