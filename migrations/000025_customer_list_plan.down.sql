set local role rampart_owner;

create or replace function security.get_customer_data_secure(
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
    perform security.audit_customer_access(p_merchant_id,
      case when p_kind = 'list' then '{}'::uuid[] else picked end, p_kind,
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
