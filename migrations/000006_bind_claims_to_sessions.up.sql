set local role rampart_owner;

-- The request role and claims are set by the service, but a statement that
-- runs inside a request transaction (an injection, say) could set them
-- again: rampart_api may switch to any request role, and set_config is
-- open to everyone. So the identity the policies use must not rest on the
-- claims alone.
--
-- auth.uid() now answers only when the claims name a live session of the
-- claimed user. Session ids are never shown to anyone but their owner, so
-- forging another user's identity needs that user's live session id.
create or replace function auth.uid() returns uuid
language sql stable security definer
set search_path = ''
as $$
  select s.user_id
  from auth.sessions s
  where s.id = auth.session_id()
    and s.user_id::text = auth.jwt() ->> 'sub'
    and s.revoked_at is null
    and s.expires_at > now()
$$;

-- is_platform_admin reads the platform role from the account, not from the
-- claims or the database role, so switching to platform_admin grants
-- nothing by itself.
create function auth.is_platform_admin() returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (
    select 1 from auth.users u
    where u.id = auth.uid() and u.platform_role = 'platform_admin'
      and u.status = 'active')
$$;

revoke execute on function auth.uid(), auth.is_platform_admin() from public;
grant execute on function auth.uid(), auth.is_platform_admin()
  to anon, authenticated, platform_admin;

alter policy users_select_admin on auth.users
  using ((select auth.is_platform_admin()));
alter policy merchants_select_admin on app.merchants
  using ((select auth.is_platform_admin()));
alter policy ai_limits_insert_admin on app.ai_rate_limits_config
  with check ((select auth.is_platform_admin()));
alter policy ai_limits_update_admin on app.ai_rate_limits_config
  using ((select auth.is_platform_admin()))
  with check ((select auth.is_platform_admin()));
alter policy ai_limits_delete_admin on app.ai_rate_limits_config
  using ((select auth.is_platform_admin()));
