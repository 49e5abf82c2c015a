set local role rampart_owner;

alter policy users_select_admin on auth.users using (true);
alter policy merchants_select_admin on app.merchants using (true);
alter policy ai_limits_insert_admin on app.ai_rate_limits_config
  with check (true);
alter policy ai_limits_update_admin on app.ai_rate_limits_config
  using (true) with check (true);
alter policy ai_limits_delete_admin on app.ai_rate_limits_config
  using (true);

drop function auth.is_platform_admin();

create or replace function auth.uid() returns uuid
language sql stable security invoker
set search_path = ''
as $$
  select case
    when c ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    then c::uuid
  end
  from (select auth.jwt() ->> 'sub' as c) s
$$;
