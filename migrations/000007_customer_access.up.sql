set local role rampart_owner;

-- Security events: the one log of what looks like an attack. Rows are
-- written only through security.log_security_event(); under attack one row
-- per kind, source and minute counts the repeats instead of multiplying.
create table security.security_events (
  id          bigint generated always as identity primary key,
  kind        text not null check (kind ~ '^[a-z][a-z0-9_]{2,63}$'),
  severity    text not null
              check (severity in ('low', 'medium', 'high', 'critical')),
  source_ip   inet,
  user_id     uuid,
  merchant_id uuid,
  request_id  text,
  details     jsonb not null default '{}',
  count       integer not null default 1,
  first_seen  timestamptz not null default now(),
  last_seen   timestamptz not null default now(),
  status      text not null default 'open'
              check (status in ('open', 'acknowledged', 'resolved')),
  status_by   uuid,
  note        text
);

-- Coalescing looks up the open row of one kind and source in the window.
create index security_events_coalesce on security.security_events
  (kind, source_ip, user_id, last_seen desc) where status = 'open';
create index security_events_time on security.security_events (last_seen desc);

-- Every read of customer data, allowed or not. The quota check reads a
-- user's rows of one merchant within a window, so its index starts there:
-- the check costs the same at ten thousand rows as at ten million.
create table security.customer_access_audit (
  id          bigint generated always as identity primary key,
  at          timestamptz not null default now(),
  user_id     uuid,
  session_id  uuid,
  ip          inet,
  request_id  text,
  merchant_id uuid not null,
  customer_id uuid,
  kind        text not null
              check (kind in ('list', 'view', 'reveal', 'export', 'erase')),
  fields      text[] not null default '{}',
  reason      text check (length(reason) <= 500),
  result      text not null
              check (result in ('allowed', 'denied', 'over_quota',
                                'not_found'))
);

create index customer_access_audit_window on security.customer_access_audit
  (user_id, merchant_id, at) include (customer_id, kind, result);
create index customer_access_audit_customer on security.customer_access_audit
  (merchant_id, customer_id, at);

-- Quotas on customer data, per user and merchant: distinct customer
-- records read in a sliding window, and reveals in another.
create table security.customer_access_limits (
  singleton        boolean primary key default true check (singleton),
  records          integer not null default 200 check (records > 0),
  records_window   interval not null default '10 minutes',
  reveals          integer not null default 20 check (reveals > 0),
  reveals_window   interval not null default '1 hour',
  -- Reveal and export need a second factor verified this recently.
  aal2_max_age     interval not null default '15 minutes'
);
insert into security.customer_access_limits default values;

alter table security.security_events enable row level security;
alter table security.security_events force row level security;
alter table security.customer_access_audit enable row level security;
alter table security.customer_access_audit force row level security;
alter table security.customer_access_limits enable row level security;
alter table security.customer_access_limits force row level security;

-- Append-only for every request role: no grant at all on the audit and
-- event tables. Platform admins read them through admin functions.

-- Customers are now read only through security.get_customer_data_secure,
-- which audits every read; request roles keep the right to write them,
-- and change or erase them through the functions below.
revoke select on app.merchant_customers from authenticated;
revoke update on app.merchant_customers from authenticated;
revoke delete on app.merchant_customers from authenticated;
drop policy customers_select_member on app.merchant_customers;
drop policy customers_update_member on app.merchant_customers;
drop policy customers_delete_manager on app.merchant_customers;

alter table app.merchant_customers add column erased_at timestamptz;

-- request_meta reads the request settings the service set for this
-- transaction.
create function security.request_ip() returns inet
language plpgsql stable
set search_path = ''
as $$
begin
  return nullif(current_setting('request.ip', true), '')::inet;
exception when others then
  return null;
end
$$;

-- log_security_event records an event, folding repeats of one kind from one
-- source (IP and user) within a minute into the open row's count. It
-- returns the event id.
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

-- check_customer_data_access_limit decides whether the caller may read
-- p_customers of p_merchant now. Reads count distinct records, so paging,
-- batches and re-reads all draw on one budget. Concurrent checks of one
-- user and merchant are serialised by a transaction lock, so a burst
-- cannot overshoot. It writes nothing; get_customer_data_secure audits.
create function security.check_customer_data_access_limit(
  p_merchant_id uuid, p_kind text, p_customers uuid[])
returns table (allowed boolean, used integer, quota integer,
               retry_after integer)
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  lim security.customer_access_limits%rowtype;
  win interval;
  seen uuid[];
  fresh integer;
  oldest timestamptz;
begin
  -- No live session (revoked while the request ran, say): no budget.
  if uid is null then
    allowed := false;
    used := 0;
    quota := 0;
    retry_after := 1;
    return next;
    return;
  end if;
  select * into lim from security.customer_access_limits;
  perform pg_advisory_xact_lock(
    hashtextextended(uid::text || '/' || p_merchant_id::text, 0));

  if p_kind = 'reveal' or p_kind = 'export' then
    win := lim.reveals_window;
    select count(*)::integer, min(a.at) into used, oldest
    from security.customer_access_audit a
    where a.user_id = uid and a.merchant_id = p_merchant_id
      and a.at > now() - win and a.result = 'allowed'
      and a.kind in ('reveal', 'export');
    quota := lim.reveals;
    fresh := 1;
  else
    win := lim.records_window;
    select coalesce(array_agg(distinct a.customer_id), '{}'), min(a.at)
    into seen, oldest
    from security.customer_access_audit a
    where a.user_id = uid and a.merchant_id = p_merchant_id
      and a.at > now() - win and a.result = 'allowed'
      and a.kind in ('list', 'view') and a.customer_id is not null;
    used := cardinality(seen);
    quota := lim.records;
    select count(*)::integer into fresh
    from unnest(p_customers) c where not c = any (seen);
  end if;

  allowed := used + fresh <= quota;
  retry_after := case when allowed then 0 else
    greatest(1, ceil(extract(epoch from
      coalesce(oldest, now()) + win - now())))::integer end;
  return next;
end
$$;

-- audit_customer_access writes one audit row per customer (or one without a
-- customer) for the current request.
create function security.audit_customer_access(
  p_merchant_id uuid, p_customers uuid[], p_kind text, p_fields text[],
  p_reason text, p_result text)
returns void
language sql volatile security definer
set search_path = ''
as $$
  insert into security.customer_access_audit
    (user_id, session_id, ip, request_id, merchant_id, customer_id, kind,
     fields, reason, result)
  select auth.uid(), auth.session_id(), security.request_ip(),
         nullif(current_setting('request.id', true), ''), p_merchant_id, c,
         p_kind, p_fields, left(p_reason, 500), p_result
  from unnest(case when cardinality(p_customers) > 0 then p_customers
                   else array[null::uuid] end) c
$$;

-- get_customer_data_secure is the only way a request role reads customers.
-- It answers rows only to members of the merchant, within quota; reveal
-- and export also need an owner or manager (owner for export) whose session
-- passed a second factor recently. Sealed values are returned only for
-- reveal and export, for the service to open; everything else is masked.
-- Every call writes audit rows in the same transaction: no audit row, no
-- data. A refused call writes its audit row too and answers a status
-- instead of raising, so the row commits with the (failed) request.
--
-- p_kind list reads a keyset page (or the ids in p_ids), optionally one
-- exact email or phone through the blind index; view, reveal and export
-- read p_customer.
create function security.get_customer_data_secure(
  p_merchant_id uuid, p_kind text, p_customer uuid, p_ids uuid[],
  p_email_bidx bytea, p_phone_bidx bytea, p_after_time timestamptz,
  p_after_id uuid, p_limit integer, p_reason text)
returns table (status text, retry_after integer, id uuid, merchant_id uuid,
               external_ref text, name_mask text, email_mask text,
               phone_mask text, address_mask text, created_at timestamptz,
               updated_at timestamptz, name_sealed bytea,
               email_sealed bytea, phone_sealed bytea,
               address_sealed bytea)
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  member_role text;
  lim security.customer_access_limits%rowtype;
  sealed boolean := p_kind in ('reveal', 'export');
  fields text[] := case when p_kind in ('reveal', 'export')
    then array['name', 'email', 'phone', 'address']
    else array['name_mask', 'email_mask', 'phone_mask', 'address_mask'] end;
  picked uuid[];
  q record;
begin
  if uid is null or p_kind not in ('list', 'view', 'reveal', 'export') then
    return;
  end if;
  select * into lim from security.customer_access_limits;
  select m.role into member_role from app.merchant_members m
  where m.merchant_id = p_merchant_id and m.user_id = uid;

  if member_role is null then
    perform security.audit_customer_access(p_merchant_id,
      array_remove(array[p_customer], null), p_kind, fields, p_reason,
      'not_found');
    return query select 'not_found'::text, 0, null::uuid, null::uuid,
      null::text, null::text, null::text, null::text, null::text,
      null::timestamptz, null::timestamptz, null::bytea, null::bytea,
      null::bytea, null::bytea;
    return;
  end if;

  if sealed and (
       (p_kind = 'reveal' and member_role not in ('owner', 'manager'))
    or (p_kind = 'export' and member_role <> 'owner')) then
    perform security.audit_customer_access(p_merchant_id,
      array[p_customer], p_kind, fields, p_reason, 'denied');
    return query select 'forbidden'::text, 0, null::uuid, null::uuid,
      null::text, null::text, null::text, null::text, null::text,
      null::timestamptz, null::timestamptz, null::bytea, null::bytea,
      null::bytea, null::bytea;
    return;
  end if;

  if sealed and not exists (
       select 1 from auth.sessions s
       where s.id = auth.session_id() and s.user_id = uid
         and s.aal = 'aal2' and s.aal_at > now() - lim.aal2_max_age) then
    perform security.audit_customer_access(p_merchant_id,
      array[p_customer], p_kind, fields, p_reason, 'denied');
    return query select 'mfa_required'::text, 0, null::uuid, null::uuid,
      null::text, null::text, null::text, null::text, null::text,
      null::timestamptz, null::timestamptz, null::bytea, null::bytea,
      null::bytea, null::bytea;
    return;
  end if;

  if p_kind = 'list' then
    select coalesce(array_agg(x.id order by x.created_at, x.id), '{}')
    into picked
    from (
      select c.id, c.created_at from app.merchant_customers c
      where c.merchant_id = p_merchant_id and c.erased_at is null
        and (p_ids is null or c.id = any (p_ids))
        and (p_email_bidx is null or c.email_bidx = p_email_bidx)
        and (p_phone_bidx is null or c.phone_bidx = p_phone_bidx)
        and (p_after_time is null
             or (c.created_at, c.id) > (p_after_time, p_after_id))
      order by c.created_at, c.id
      limit least(greatest(p_limit, 1), 100)) x;
  else
    select array_agg(c.id) into picked from app.merchant_customers c
    where c.merchant_id = p_merchant_id and c.id = p_customer
      and c.erased_at is null;
    if picked is null then
      perform security.audit_customer_access(p_merchant_id,
        array_remove(array[p_customer], null), p_kind, fields, p_reason,
        'not_found');
      return query select 'not_found'::text, 0, null::uuid, null::uuid,
        null::text, null::text, null::text, null::text, null::text,
        null::timestamptz, null::timestamptz, null::bytea, null::bytea,
        null::bytea, null::bytea;
      return;
    end if;
  end if;

  select * into q from security.check_customer_data_access_limit(
    p_merchant_id, p_kind, picked);
  if not q.allowed then
    perform security.audit_customer_access(p_merchant_id, '{}', p_kind,
      fields, p_reason, 'over_quota');
    perform security.log_security_event(
      case when p_kind in ('reveal', 'export') then 'reveal_quota_exceeded'
           else 'bulk_export_suspected' end,
      'high',
      jsonb_build_object('used', q.used, 'quota', q.quota,
                         'requested', cardinality(picked)),
      p_merchant_id);
    return query select 'over_quota'::text, q.retry_after, null::uuid,
      null::uuid, null::text, null::text, null::text, null::text,
      null::text, null::timestamptz, null::timestamptz, null::bytea,
      null::bytea, null::bytea, null::bytea;
    return;
  end if;

  perform security.audit_customer_access(p_merchant_id, picked, p_kind,
    fields, p_reason, 'allowed');
  return query
  select 'ok'::text, 0, c.id, c.merchant_id, c.external_ref, c.name_mask,
         c.email_mask, c.phone_mask, c.address_mask, c.created_at,
         c.updated_at,
         case when sealed then c.name_sealed end,
         case when sealed then c.email_sealed end,
         case when sealed then c.phone_sealed end,
         case when sealed then c.address_sealed end
  from app.merchant_customers c
  where c.id = any (picked)
  order by c.created_at, c.id;
end
$$;

-- update_customer changes the given sealed fields of a customer of a
-- merchant the caller belongs to; a NULL group leaves that field alone. It
-- returns whether a customer was changed.
create function app.update_customer(
  p_merchant_id uuid, p_id uuid, p_external_ref text,
  p_name_sealed bytea, p_name_mask text,
  p_email_sealed bytea, p_email_mask text, p_email_bidx bytea,
  p_phone_sealed bytea, p_phone_mask text, p_phone_bidx bytea,
  p_address_sealed bytea, p_address_mask text)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  if not p_merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]) then
    return false;
  end if;
  update app.merchant_customers c set
    external_ref = coalesce(p_external_ref, c.external_ref),
    name_sealed = coalesce(p_name_sealed, c.name_sealed),
    name_mask = coalesce(p_name_mask, c.name_mask),
    email_sealed = coalesce(p_email_sealed, c.email_sealed),
    email_mask = coalesce(p_email_mask, c.email_mask),
    email_bidx = case when p_email_sealed is null then c.email_bidx
                      else p_email_bidx end,
    phone_sealed = coalesce(p_phone_sealed, c.phone_sealed),
    phone_mask = coalesce(p_phone_mask, c.phone_mask),
    phone_bidx = case when p_phone_sealed is null then c.phone_bidx
                      else p_phone_bidx end,
    address_sealed = coalesce(p_address_sealed, c.address_sealed),
    address_mask = coalesce(p_address_mask, c.address_mask),
    updated_at = now()
  where c.merchant_id = p_merchant_id and c.id = p_id
    and c.erased_at is null;
  return found;
end
$$;

-- erase_customer forgets a customer (GDPR erasure): every sealed value,
-- mask and blind index is destroyed, and the shipping addresses of the
-- customer's orders with them; the orders and their lines stay, anonymous,
-- for the books. Owners and managers only. The audit trail keeps a
-- tombstone row of kind erase, never the erased values.
create function app.erase_customer(p_merchant_id uuid, p_id uuid)
returns boolean
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  if not p_merchant_id = any ((select app.my_merchant_ids('manager'))::uuid[]) then
    perform security.audit_customer_access(p_merchant_id, array[p_id],
      'erase', '{}', null, 'not_found');
    return false;
  end if;
  update app.merchant_customers c set
    external_ref = null, name_sealed = null, name_mask = null,
    email_sealed = null, email_mask = null, email_bidx = null,
    phone_sealed = null, phone_mask = null, phone_bidx = null,
    address_sealed = null, address_mask = null,
    erased_at = now(), updated_at = now()
  where c.merchant_id = p_merchant_id and c.id = p_id
    and c.erased_at is null;
  if not found then
    perform security.audit_customer_access(p_merchant_id, array[p_id],
      'erase', '{}', null, 'not_found');
    return false;
  end if;
  update app.orders o set
    shipping_address_sealed = null, shipping_address_mask = null
  where o.merchant_id = p_merchant_id and o.customer_id = p_id;
  perform security.audit_customer_access(p_merchant_id, array[p_id],
    'erase', array['name', 'email', 'phone', 'address'], null, 'allowed');
  return true;
end
$$;

revoke execute on all functions in schema security from public;
revoke execute on function app.update_customer(uuid, uuid, text, bytea, text,
  bytea, text, bytea, bytea, text, bytea, bytea, text),
  app.erase_customer(uuid, uuid) from public;
grant execute on function security.request_ip() to anon, authenticated;
grant execute on function
  security.log_security_event(text, text, jsonb, uuid),
  security.get_customer_data_secure(uuid, text, uuid, uuid[], bytea, bytea,
    timestamptz, uuid, integer, text)
  to anon, authenticated;
grant execute on function
  app.update_customer(uuid, uuid, text, bytea, text, bytea, text, bytea,
    bytea, text, bytea, bytea, text),
  app.erase_customer(uuid, uuid)
  to authenticated;
