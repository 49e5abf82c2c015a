set local role rampart_owner;

-- Failed sign-ins per account and client network. A lock is keyed by both,
-- so an attacker who locks an account from one address never locks its
-- owner out from another; the per-address budget across accounts is the
-- IP block rule of security.auto_respond_to_threat. The account is named by
-- a keyed hash the service computes, never by its email.
create table auth.login_failures (
  account_tag text not null check (length(account_tag) between 8 and 64),
  network     cidr not null,
  at          timestamptz not null default now()
);
create index login_failures_pair on auth.login_failures
  (account_tag, network, at);
create index login_failures_at on auth.login_failures (at);

alter table auth.login_failures enable row level security;
alter table auth.login_failures force row level security;

-- login_failures_recent counts a pair's failures in the last 30 minutes.
create function auth.login_failures_recent(p_tag text, p_ip inet)
returns integer
language sql stable security definer
set search_path = ''
as $$
  select count(*)::integer from auth.login_failures f
  where f.account_tag = p_tag
    and f.network = security.block_network(p_ip)
    and f.at > now() - interval '30 minutes'
$$;

-- note_login_failure records one failure and returns the pair's count in
-- the last 30 minutes. Rows older than a day are pruned as it goes.
create function auth.note_login_failure(p_tag text, p_ip inet)
returns integer
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  insert into auth.login_failures (account_tag, network)
  values (p_tag, security.block_network(p_ip));
  delete from auth.login_failures
  where ctid in (select ctid from auth.login_failures
                 where at < now() - interval '1 day' limit 100);
  return auth.login_failures_recent(p_tag, p_ip);
end
$$;

-- clear_login_failures forgets a pair's failures after a successful
-- sign-in from it.
create function auth.clear_login_failures(p_tag text, p_ip inet)
returns void
language sql volatile security definer
set search_path = ''
as $$
  delete from auth.login_failures
  where account_tag = p_tag and network = security.block_network(p_ip)
$$;

revoke execute on function auth.login_failures_recent(text, inet),
  auth.note_login_failure(text, inet), auth.clear_login_failures(text, inet)
  from public;
grant execute on function auth.login_failures_recent(text, inet),
  auth.note_login_failure(text, inet), auth.clear_login_failures(text, inet)
  to anon;

-- recent_aal2 tells whether the caller's session verified a second factor
-- in the last 15 minutes: the session row decides, not the token's claims.
create function auth.recent_aal2() returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (
    select 1 from auth.sessions s
    where s.id = auth.session_id() and s.user_id = auth.uid()
      and s.aal = 'aal2' and s.aal_at > now() - interval '15 minutes')
$$;
revoke execute on function auth.recent_aal2() from public;
grant execute on function auth.recent_aal2() to authenticated;
