set local role rampart_owner;

-- The confusable skeleton of each account's email (computed by the
-- service): a sign-up whose skeleton is taken is a look-alike of an
-- existing account and is refused, with the same answer as any sign-up.
alter table auth.users add column email_skeleton text;
create unique index users_email_skeleton on auth.users (email_skeleton)
  where email_skeleton is not null;

drop function auth.register_user(text, text);
create function auth.register_user(p_email text, p_password_hash text,
                                   p_skeleton text)
returns uuid
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  new_id uuid;
begin
  insert into auth.users (email, password_hash, email_skeleton)
  values (p_email, p_password_hash, p_skeleton)
  on conflict do nothing
  returning id into new_id;
  return new_id;
end
$$;
revoke execute on function auth.register_user(text, text, text) from public;
grant execute on function auth.register_user(text, text, text) to anon;

-- An erased account frees its skeleton.
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
