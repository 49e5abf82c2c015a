set local role rampart_owner;
drop function if exists auth.register_user(text, text, text);
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
revoke execute on function auth.register_user(text, text) from public;
grant execute on function auth.register_user(text, text) to anon;
drop index if exists auth.users_email_skeleton;
alter table auth.users drop column if exists email_skeleton;
