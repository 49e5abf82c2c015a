set local role rampart_owner;

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
create or replace function security.auto_respond_to_threat(p_event_id bigint)
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

drop function if exists security.flag_targeted_account(security.security_events);
drop index if exists security.security_events_login_account;
