set local role rampart_owner;
drop function if exists security.get_security_metrics();
drop index if exists security.customer_access_audit_at;
drop function if exists security.admin_access_audit(uuid, uuid, uuid,
  timestamptz, timestamptz, bigint, integer);
drop function if exists security.admin_unsuspend(uuid);
drop function if exists security.admin_suspend(uuid, text);
drop function if exists security.admin_unblock(bigint);
drop function if exists security.admin_block(cidr, text, interval);
drop function if exists security.admin_blocks();
drop function if exists security.admin_set_event_status(bigint, text, text);
drop function if exists security.admin_events(text, text, text, timestamptz,
  timestamptz, inet, uuid, bigint, integer);
drop function if exists security.require_admin();
drop function if exists security.live_blocks();
drop function if exists security.log_security_event(text, text, jsonb, uuid,
  integer, inet);
drop function if exists security.auto_respond_to_threat(bigint);
drop function if exists security.respond_block(security.security_events,
  text, text);
drop function if exists security.insert_event(text, text, inet, uuid, uuid,
  jsonb);
drop function if exists security.block_network(inet);
drop function if exists security.suspend_user(uuid, text);
drop function if exists security.block_ip(cidr, text, text, interval);
drop function if exists security.chains_broken();
drop function if exists security.apply_retention(interval);
drop function if exists security.seal_chains();
drop function if exists security.audit_digest_text(
  security.customer_access_audit);
drop function if exists security.event_digest_text(security.security_events);
drop table if exists security.chain_checkpoints;
drop index if exists security.customer_access_audit_unsealed;
drop index if exists security.security_events_unsealed;
alter table security.customer_access_audit drop column if exists chain_hash,
  drop column if exists chain_seq;
alter table security.security_events drop column if exists chain_hash,
  drop column if exists chain_seq;
drop table if exists security.blocked_ips;

-- The event door of the previous version.
create function security.log_security_event(p_kind text, p_severity text,
                                            p_details jsonb,
                                            p_merchant_id uuid)
returns bigint
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  ip inet := security.request_ip();
  uid uuid := auth.uid();
  eid bigint;
begin
  update security.security_events e
  set count = e.count + 1, last_seen = now()
  where e.id = (
    select x.id from security.security_events x
    where x.kind = p_kind and x.status = 'open'
      and x.source_ip is not distinct from ip
      and x.user_id is not distinct from uid
      and x.last_seen > now() - interval '1 minute'
    order by x.last_seen desc
    limit 1)
  returning e.id into eid;
  if eid is not null then
    return eid;
  end if;
  insert into security.security_events (kind, severity, source_ip, user_id,
                                        merchant_id, request_id, details)
  values (p_kind, p_severity, ip, uid, p_merchant_id,
          nullif(current_setting('request.id', true), ''),
          coalesce(p_details, '{}'))
  returning id into eid;
  return eid;
end
$$;
revoke execute on function security.log_security_event(text, text, jsonb,
  uuid) from public;
grant execute on function security.log_security_event(text, text, jsonb,
  uuid) to anon, authenticated;
