set local role rampart_owner;

-- Blocked addresses and ranges. Automatic blocks expire and escalate for
-- repeat offenders; admin blocks and imported reputation lists may be
-- permanent (expires_at null). Every instance caches the live rows and is
-- told to reload through NOTIFY rampart_blocks.
create table security.blocked_ips (
  id         bigint generated always as identity primary key,
  network    cidr not null,
  source     text not null check (source ~ '^(auto|admin|list:[a-z0-9_.-]{1,40})$'),
  reason     text not null check (length(reason) <= 200),
  created_by uuid,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  removed_at timestamptz
);
create index blocked_ips_live on security.blocked_ips (network)
  where removed_at is null;
create index blocked_ips_history on security.blocked_ips (network, created_at);

alter table security.blocked_ips enable row level security;
alter table security.blocked_ips force row level security;

-- Tamper evidence. Rows are linked into a hash chain after they commit, in
-- the order they are sealed (chain_seq), by security.seal_chains(): each
-- row's hash covers its immutable columns and the previous row's hash, so
-- editing or deleting a sealed row breaks every later link. Sealing after
-- commit keeps inserts concurrent; a row is unsealed for at most one
-- sealing interval. Counters an event coalesces into (count, last_seen)
-- and its triage status are deliberately outside the chain.
alter table security.security_events
  add column chain_seq bigint unique, add column chain_hash bytea;
alter table security.customer_access_audit
  add column chain_seq bigint unique, add column chain_hash bytea;
create index security_events_unsealed on security.security_events (id)
  where chain_seq is null;
create index customer_access_audit_unsealed on security.customer_access_audit (id)
  where chain_seq is null;

-- One checkpoint per chain: where verification starts after retention
-- removed the rows before it.
create table security.chain_checkpoints (
  chain      text primary key check (chain in ('security_events',
                                               'customer_access_audit')),
  chain_seq  bigint not null,
  chain_hash bytea not null,
  created_at timestamptz not null default now()
);
insert into security.chain_checkpoints (chain, chain_seq, chain_hash)
values ('security_events', 0, '\x'::bytea),
       ('customer_access_audit', 0, '\x'::bytea);
alter table security.chain_checkpoints enable row level security;
alter table security.chain_checkpoints force row level security;

-- The canonical text of a row for its hash; the verifier in Go builds the
-- same text.
create function security.event_digest_text(e security.security_events)
returns text
language sql immutable
set search_path = ''
as $$
  select concat_ws('|', e.id, e.kind, e.severity, e.source_ip, e.user_id,
                   e.merchant_id, e.request_id, e.details::text,
                   to_char(e.first_seen at time zone 'UTC',
                           'YYYY-MM-DD"T"HH24:MI:SS.US'))
$$;

create function security.audit_digest_text(a security.customer_access_audit)
returns text
language sql immutable
set search_path = ''
as $$
  select concat_ws('|', a.id, to_char(a.at at time zone 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS.US'), a.user_id, a.session_id,
                   a.ip, a.request_id, a.merchant_id, a.customer_id, a.kind,
                   array_to_string(a.fields, ','), a.reason, a.result)
$$;

-- seal_chains links every unsealed row of both chains and returns how many
-- it sealed. Sealers are serialised by a lock, so two instances never fork
-- a chain.
create function security.seal_chains() returns integer
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  seq bigint;
  prev bytea;
  ev security.security_events%rowtype;
  au security.customer_access_audit%rowtype;
  n integer := 0;
begin
  perform pg_advisory_xact_lock(hashtextextended('rampart/seal_chains', 0));

  select e.chain_seq, e.chain_hash into seq, prev
  from security.security_events e
  where e.chain_seq is not null order by e.chain_seq desc limit 1;
  if not found then
    select c.chain_seq, c.chain_hash into seq, prev
    from security.chain_checkpoints c where c.chain = 'security_events';
  end if;
  for ev in select * from security.security_events e
            where e.chain_seq is null order by e.id limit 10000 loop
    seq := seq + 1;
    prev := sha256(prev || convert_to(security.event_digest_text(ev), 'UTF8'));
    update security.security_events set chain_seq = seq, chain_hash = prev
    where id = ev.id;
    n := n + 1;
  end loop;

  select a.chain_seq, a.chain_hash into seq, prev
  from security.customer_access_audit a
  where a.chain_seq is not null order by a.chain_seq desc limit 1;
  if not found then
    select c.chain_seq, c.chain_hash into seq, prev
    from security.chain_checkpoints c where c.chain = 'customer_access_audit';
  end if;
  for au in select * from security.customer_access_audit a
            where a.chain_seq is null order by a.id limit 10000 loop
    seq := seq + 1;
    prev := sha256(prev || convert_to(security.audit_digest_text(au), 'UTF8'));
    update security.customer_access_audit set chain_seq = seq,
      chain_hash = prev
    where id = au.id;
    n := n + 1;
  end loop;
  return n;
end
$$;

-- chains_broken re-checks the most recent links of both chains (the last
-- 1,000 of each) and tells whether any fails, for the service's metrics and
-- alerts. `rampart audit verify` checks the whole chains and names the row.
create function security.chains_broken() returns boolean
language plpgsql stable security definer
set search_path = ''
as $$
declare
  prev bytea;
  first boolean;
  ev record;
  au record;
begin
  first := true;
  for ev in select * from (
      select e.chain_seq, e.chain_hash, security.event_digest_text(e) as d
      from security.security_events e where e.chain_seq is not null
      order by e.chain_seq desc limit 1001) x order by x.chain_seq loop
    if not first and ev.chain_hash <> sha256(prev || convert_to(ev.d, 'UTF8')) then
      return true;
    end if;
    first := false;
    prev := ev.chain_hash;
  end loop;
  first := true;
  for au in select * from (
      select a.chain_seq, a.chain_hash, security.audit_digest_text(a) as d
      from security.customer_access_audit a where a.chain_seq is not null
      order by a.chain_seq desc limit 1001) x order by x.chain_seq loop
    if not first and au.chain_hash <> sha256(prev || convert_to(au.d, 'UTF8')) then
      return true;
    end if;
    first := false;
    prev := au.chain_hash;
  end loop;
  return false;
end
$$;

-- apply_retention removes sealed rows older than p_keep from both chains
-- and moves each chain's checkpoint to the last removed row, so what stays
-- still verifies. Only the owner runs it (rampart audit retain).
create function security.apply_retention(p_keep interval) returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
  cut bigint;
  h bytea;
  n integer := 0;
  k integer;
begin
  select max(chain_seq) into cut from security.security_events
  where chain_seq is not null and last_seen < now() - p_keep;
  if cut is not null then
    select chain_hash into h from security.security_events
    where chain_seq = cut;
    delete from security.security_events where chain_seq <= cut;
    get diagnostics k = row_count;
    n := n + k;
    update security.chain_checkpoints set chain_seq = cut, chain_hash = h,
      created_at = now() where chain = 'security_events';
  end if;

  select max(chain_seq) into cut from security.customer_access_audit
  where chain_seq is not null and at < now() - p_keep;
  if cut is not null then
    select chain_hash into h from security.customer_access_audit
    where chain_seq = cut;
    delete from security.customer_access_audit where chain_seq <= cut;
    get diagnostics k = row_count;
    n := n + k;
    update security.chain_checkpoints set chain_seq = cut, chain_hash = h,
      created_at = now() where chain = 'customer_access_audit';
  end if;
  return n;
end
$$;

-- block_ip records a block and tells every instance. Automatic blocks
-- escalate with the network's history over 30 days: 15 minutes, then 4
-- hours, then a week.
create function security.block_ip(p_network cidr, p_source text,
                                  p_reason text, p_for interval)
returns bigint
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  prior integer;
  dur interval := p_for;
  bid bigint;
begin
  if p_source = 'auto' then
    -- A throttle names its own short duration and does not count as an
    -- offence for escalation; a block escalates with history.
    select count(*) into prior from security.blocked_ips b
    where b.network = p_network and b.source = 'auto'
      and b.reason not like 'throttled:%'
      and b.created_at > now() - interval '30 days';
    dur := coalesce(p_for, case when prior = 0 then interval '15 minutes'
                                when prior = 1 then interval '4 hours'
                                else interval '7 days' end);
    -- Already blocked: nothing to add.
    if exists (select 1 from security.blocked_ips b
               where b.network >>= p_network and b.removed_at is null
                 and (b.expires_at is null or b.expires_at > now())) then
      return null;
    end if;
  end if;
  insert into security.blocked_ips (network, source, reason, created_by,
                                    expires_at)
  values (p_network, p_source, left(p_reason, 200), auth.uid(),
          case when dur is null then null else now() + dur end)
  returning id into bid;
  perform pg_notify('rampart_blocks', 'ip');
  return bid;
end
$$;

-- suspend_user suspends an account, revokes every session and tells every
-- instance.
create function security.suspend_user(p_user_id uuid, p_reason text)
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

-- The network an address is blocked as: IPv6 by its /64, IPv4 alone.
create function security.block_network(p_ip inet) returns cidr
language sql immutable
set search_path = ''
as $$
  select case when family(p_ip) = 6 then set_masklen(p_ip::cidr, 64)
              else set_masklen(p_ip::cidr, 32) end
$$;

-- auto_respond_to_threat applies the response rules to one event and
-- returns what it decided ('none', 'block_ip', 'suspend_user', 'throttle').
-- Rules, over the sum of coalesced counts in a window:
--   login_failed from one address: 20 in 15 minutes blocks the address
--     (never the account: anyone can fail a login in a victim's name);
--   login_failed from one address across 5 accounts in 15 minutes is
--     credential stuffing: blocks the address;
--   attack_signature from one address: 10 in 10 minutes blocks it;
--   cross_tenant_probe from one address: 20 in 10 minutes throttles it
--     (a short block);
--   bulk_export_suspected by one user: 50 refused reads in an hour (a
--     client that ignores Retry-After and keeps pulling) suspends the user,
--     who caused it with their own authenticated reads.
-- Each decision is itself logged as an event.
create function security.auto_respond_to_threat(p_event_id bigint)
returns text
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  e security.security_events%rowtype;
  total bigint;
  accounts bigint;
begin
  select * into e from security.security_events where id = p_event_id;
  if not found then
    return 'none';
  end if;

  if e.kind = 'login_failed' and e.source_ip is not null then
    select coalesce(sum(x.count), 0), count(distinct x.details ->> 'account')
    into total, accounts
    from security.security_events x
    where x.kind = 'login_failed' and x.source_ip = e.source_ip
      and x.last_seen > now() - interval '15 minutes';
    if accounts >= 5 then
      perform security.respond_block(e, 'credential_stuffing',
        'failed logins across many accounts');
      return 'block_ip';
    end if;
    if total >= 20 then
      perform security.respond_block(e, 'ip_blocked', 'repeated failed logins');
      return 'block_ip';
    end if;
  elsif e.kind = 'attack_signature' and e.source_ip is not null then
    select coalesce(sum(x.count), 0) into total
    from security.security_events x
    where x.kind = 'attack_signature' and x.source_ip = e.source_ip
      and x.last_seen > now() - interval '10 minutes';
    if total >= 10 then
      perform security.respond_block(e, 'ip_blocked', 'attack signatures');
      return 'block_ip';
    end if;
  elsif e.kind = 'cross_tenant_probe' and e.source_ip is not null then
    select coalesce(sum(x.count), 0) into total
    from security.security_events x
    where x.kind = 'cross_tenant_probe' and x.source_ip = e.source_ip
      and x.last_seen > now() - interval '10 minutes';
    if total >= 20 then
      if security.block_ip(security.block_network(e.source_ip), 'auto',
           'throttled: probing other tenants', interval '5 minutes') is not null then
        perform security.insert_event('ip_throttled', 'medium', e.source_ip,
          e.user_id, e.merchant_id, jsonb_build_object('event', e.id));
      end if;
      return 'throttle';
    end if;
  elsif e.kind = 'bulk_export_suspected' and e.user_id is not null then
    select coalesce(sum(x.count), 0) into total
    from security.security_events x
    where x.kind = 'bulk_export_suspected' and x.user_id = e.user_id
      and x.last_seen > now() - interval '1 hour';
    if total >= 50 and security.suspend_user(e.user_id, 'bulk export') then
      perform security.insert_event('user_suspended', 'critical', e.source_ip,
        e.user_id, e.merchant_id, jsonb_build_object('event', e.id,
        'cause', 'bulk_export_suspected'));
      return 'suspend_user';
    end if;
  end if;
  return 'none';
end
$$;

create function security.respond_block(e security.security_events,
                                       p_kind text, p_reason text)
returns void
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  if security.block_ip(security.block_network(e.source_ip), 'auto', p_reason,
                       null) is not null then
    perform security.insert_event(p_kind, 'high', e.source_ip, null,
      e.merchant_id, jsonb_build_object('event', e.id, 'reason', p_reason));
  end if;
end
$$;

-- insert_event writes one event row as is (decisions, never coalesced).
create function security.insert_event(p_kind text, p_severity text,
  p_ip inet, p_user uuid, p_merchant uuid, p_details jsonb)
returns bigint
language sql volatile security definer
set search_path = ''
as $$
  insert into security.security_events (kind, severity, source_ip, user_id,
                                        merchant_id, request_id, details)
  values (p_kind, p_severity, p_ip, p_user, p_merchant,
          nullif(current_setting('request.id', true), ''), p_details)
  returning id
$$;

-- log_security_event is replaced: it takes the number of occurrences the
-- caller already folded together (the service coalesces bursts in memory
-- before they reach the database), an optional address and user for events
-- the service records on someone's behalf (a failed login names the
-- account it targeted in details, never in user_id), and it applies the
-- response rules.
drop function security.log_security_event(text, text, jsonb, uuid);
create function security.log_security_event(p_kind text, p_severity text,
  p_details jsonb, p_merchant_id uuid, p_count integer default 1,
  p_ip inet default null)
returns bigint
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  ip inet := coalesce(p_ip, security.request_ip());
  uid uuid := auth.uid();
  eid bigint;
  n integer := greatest(coalesce(p_count, 1), 1);
begin
  update security.security_events e
  set count = e.count + n, last_seen = now()
  where e.id = (
    select x.id from security.security_events x
    where x.kind = p_kind and x.status = 'open'
      and x.source_ip is not distinct from ip
      and x.user_id is not distinct from uid
      and x.details is not distinct from coalesce(p_details, '{}')
      and x.last_seen > now() - interval '1 minute'
    order by x.last_seen desc
    limit 1)
  returning e.id into eid;
  if eid is null then
    insert into security.security_events (kind, severity, source_ip, user_id,
      merchant_id, request_id, details, count)
    values (p_kind, p_severity, ip, uid, p_merchant_id,
            nullif(current_setting('request.id', true), ''),
            coalesce(p_details, '{}'), n)
    returning id into eid;
  end if;
  perform security.auto_respond_to_threat(eid);
  return eid;
end
$$;

-- get_customer_data_secure and friends call the old signature through
-- positional arguments; the new one keeps them compatible.

-- live_blocks lists what every instance must refuse now: live IP blocks
-- and suspended users. Any request role may read it (the edge loads it
-- with no claims); it reveals only addresses and ids.
create function security.live_blocks()
returns table (kind text, network cidr, user_id uuid, expires_at timestamptz)
language sql stable security definer
set search_path = ''
as $$
  select 'ip', b.network, null::uuid, b.expires_at
  from security.blocked_ips b
  where b.removed_at is null and (b.expires_at is null or b.expires_at > now())
  union all
  select 'user', null::cidr, u.id, null::timestamptz
  from auth.users u where u.status = 'suspended'
$$;

-- Admin functions: platform admins whose session passed a second factor
-- recently. They answer nothing to anyone else.
-- SQLSTATE RA001 tells the service to answer 403 mfa_required.
create function security.require_admin() returns void
language plpgsql stable security definer
set search_path = ''
as $$
begin
  if not auth.is_platform_admin() then
    raise exception 'platform admins only' using errcode = '42501';
  end if;
  if not exists (
       select 1 from auth.sessions s
       where s.id = auth.session_id() and s.user_id = auth.uid()
         and s.aal = 'aal2' and s.aal_at > now() - interval '15 minutes') then
    raise exception 'a recent second factor is required'
      using errcode = 'RA001';
  end if;
end
$$;

create function security.admin_events(p_kind text, p_severity text,
  p_status text, p_since timestamptz, p_until timestamptz, p_ip inet,
  p_user uuid, p_before_id bigint, p_limit integer)
returns setof security.security_events
language plpgsql stable security definer
set search_path = ''
as $$
begin
  perform security.require_admin();
  return query
  select * from security.security_events e
  where (p_kind is null or e.kind = p_kind)
    and (p_severity is null or e.severity = p_severity)
    and (p_status is null or e.status = p_status)
    and (p_since is null or e.last_seen >= p_since)
    and (p_until is null or e.first_seen <= p_until)
    and (p_ip is null or e.source_ip <<= p_ip)
    and (p_user is null or e.user_id = p_user)
    and (p_before_id is null or e.id < p_before_id)
  order by e.id desc
  limit least(greatest(p_limit, 1), 100);
end
$$;

create function security.admin_set_event_status(p_id bigint, p_status text,
                                                p_note text)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  perform security.require_admin();
  update security.security_events
  set status = p_status, status_by = auth.uid(), note = left(p_note, 1000)
  where id = p_id and p_status in ('acknowledged', 'resolved');
  return found;
end
$$;

create function security.admin_blocks()
returns setof security.blocked_ips
language plpgsql stable security definer
set search_path = ''
as $$
begin
  perform security.require_admin();
  return query select * from security.blocked_ips b
  where b.removed_at is null and (b.expires_at is null or b.expires_at > now())
  order by b.id desc limit 1000;
end
$$;

create function security.admin_block(p_network cidr, p_reason text,
                                     p_for interval)
returns bigint
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  perform security.require_admin();
  return security.block_ip(p_network, 'admin', p_reason, p_for);
end
$$;

create function security.admin_unblock(p_id bigint) returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  perform security.require_admin();
  update security.blocked_ips set removed_at = now()
  where id = p_id and removed_at is null;
  if found then
    perform pg_notify('rampart_blocks', 'ip');
  end if;
  return found;
end
$$;

create function security.admin_suspend(p_user uuid, p_reason text)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  perform security.require_admin();
  if p_user = auth.uid() then
    return false;
  end if;
  return security.suspend_user(p_user, coalesce(p_reason, 'admin'));
end
$$;

create function security.admin_unsuspend(p_user uuid) returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  perform security.require_admin();
  update auth.users set status = 'active', updated_at = now()
  where id = p_user and status = 'suspended';
  if found then
    perform pg_notify('rampart_blocks', 'user');
  end if;
  return found;
end
$$;

create function security.admin_access_audit(p_merchant uuid, p_user uuid,
  p_customer uuid, p_since timestamptz, p_until timestamptz,
  p_before_id bigint, p_limit integer)
returns setof security.customer_access_audit
language plpgsql stable security definer
set search_path = ''
as $$
begin
  perform security.require_admin();
  return query
  select * from security.customer_access_audit a
  where (p_merchant is null or a.merchant_id = p_merchant)
    and (p_user is null or a.user_id = p_user)
    and (p_customer is null or a.customer_id = p_customer)
    and (p_since is null or a.at >= p_since)
    and (p_until is null or a.at <= p_until)
    and (p_before_id is null or a.id < p_before_id)
  order by a.id desc
  limit least(greatest(p_limit, 1), 100);
end
$$;

-- get_security_metrics returns the figures of the security overview. The
-- service refreshes them on a timer for Prometheus and serves them to
-- admins; a platform admin or a caller with no claims at all (the
-- service's own timer) may call it.
create function security.get_security_metrics() returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  out jsonb;
begin
  if auth.jwt() is not null then
    perform security.require_admin();
  end if;
  select jsonb_build_object(
    'incidents_24h', (select count(*) from security.security_events
                      where last_seen > now() - interval '24 hours'
                        and severity in ('high', 'critical')),
    'critical_open', (select count(*) from security.security_events
                      where severity = 'critical' and status = 'open'),
    'blocked_ips', (select count(*) from security.blocked_ips
                    where removed_at is null
                      and (expires_at is null or expires_at > now())),
    'suspicious_users', (select count(distinct user_id)
                         from security.security_events
                         where user_id is not null
                           and last_seen > now() - interval '24 hours'
                           and severity in ('medium', 'high', 'critical')),
    'failed_auth_24h', (select coalesce(sum(count), 0)
                        from security.security_events
                        where kind = 'login_failed'
                          and last_seen > now() - interval '24 hours'),
    'customer_reads_1h', (select count(*) from security.customer_access_audit
                          where at > now() - interval '1 hour'
                            and result = 'allowed'),
    'reveals_24h', (select count(*) from security.customer_access_audit
                    where at > now() - interval '24 hours'
                      and kind in ('reveal', 'export')
                      and result = 'allowed'),
    'quota_hits_24h', (select count(*) from security.customer_access_audit
                       where at > now() - interval '24 hours'
                         and result = 'over_quota'),
    'top_readers_1h', coalesce((
      select jsonb_agg(jsonb_build_object('user_id', t.user_id,
                                          'reads', t.n) order by t.n desc)
      from (select user_id, count(*) as n from security.customer_access_audit
            where at > now() - interval '1 hour' and result = 'allowed'
            group by user_id order by n desc limit 5) t), '[]'))
  into out;
  return out;
end
$$;

-- Time-bounded lookups behind the metrics.
create index customer_access_audit_at on security.customer_access_audit (at);

revoke execute on all functions in schema security from public;
grant execute on function security.request_ip() to anon, authenticated;
grant execute on function
  security.log_security_event(text, text, jsonb, uuid, integer, inet),
  security.get_customer_data_secure(uuid, text, uuid, uuid[], bytea, bytea,
    timestamptz, uuid, integer, text),
  security.live_blocks(),
  security.seal_chains(),
  security.chains_broken(),
  security.get_security_metrics()
  to anon, authenticated;
grant execute on function
  security.admin_events(text, text, text, timestamptz, timestamptz, inet,
    uuid, bigint, integer),
  security.admin_set_event_status(bigint, text, text),
  security.admin_blocks(),
  security.admin_block(cidr, text, interval),
  security.admin_unblock(bigint),
  security.admin_suspend(uuid, text),
  security.admin_unsuspend(uuid),
  security.admin_access_audit(uuid, uuid, uuid, timestamptz, timestamptz,
    bigint, integer)
  to platform_admin;
