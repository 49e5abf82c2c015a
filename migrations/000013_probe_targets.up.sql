set local role rampart_owner;

-- probe_target_elsewhere tells the service whether a request that was
-- answered 404 under /v1/merchants/{merchant}/... aimed at something that
-- exists but is not the caller's: a merchant the caller is not a member
-- of, or an object (item, listing, customer, order, member) that belongs to
-- another merchant than the one in the path. That is what enumerating other
-- tenants' ids looks like; a 404 on an id that exists nowhere is a typo or
-- a stale link and is not counted.
--
-- It answers only a yes or no about ids the caller already sent, reads
-- nothing a policy would show, and is called by the service after the
-- request's own transaction failed, never with data from a response. It
-- needs a live session (auth.uid()): without one it answers false, so a
-- session that died mid-request is never mistaken for a probe.
create function security.probe_target_elsewhere(p_merchant uuid, p_kind text,
                                                p_id uuid)
returns boolean
language plpgsql stable security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  owner_merchant uuid;
begin
  if uid is null or p_merchant is null then
    return false;
  end if;
  if not exists (select 1 from app.merchant_members m
                 where m.merchant_id = p_merchant and m.user_id = uid) then
    return exists (select 1 from app.merchants m where m.id = p_merchant);
  end if;
  if p_id is null then
    return false;
  end if;
  case p_kind
    when 'item' then
      select i.merchant_id into owner_merchant
      from app.merchant_items i where i.id = p_id;
    when 'listing' then
      select l.merchant_id into owner_merchant
      from app.market_items l where l.id = p_id;
    when 'customer' then
      select c.merchant_id into owner_merchant
      from app.merchant_customers c where c.id = p_id;
    when 'order' then
      select o.merchant_id into owner_merchant
      from app.orders o where o.id = p_id;
    when 'user' then
      -- A member id that is a user of the platform but not of this
      -- merchant: looking up accounts through another tenant's path.
      if exists (select 1 from auth.users u where u.id = p_id)
         and not exists (select 1 from app.merchant_members m
                         where m.merchant_id = p_merchant and m.user_id = p_id) then
        return true;
      end if;
      return false;
    else
      return false;
  end case;
  return owner_merchant is not null and owner_merchant <> p_merchant;
end
$$;

revoke execute on function security.probe_target_elsewhere(uuid, text, uuid)
  from public;
grant execute on function security.probe_target_elsewhere(uuid, text, uuid)
  to authenticated;
