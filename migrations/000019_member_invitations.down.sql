set local role rampart_owner;

drop table app.merchant_invitations;
drop function app.accept_invitation(uuid, bytea);
drop function app.decline_invitation(uuid, bytea);
drop function app.limit_open_invitations();
drop function app.my_email();

-- add_member lets an owner add an existing user, by email, as manager or
-- staff. It returns the user id, or NULL when the caller is not an owner of
-- the merchant or no such user exists: the two are indistinguishable to the
-- caller, so it cannot probe for accounts of other merchants.
create function app.add_member(p_merchant_id uuid, p_email text,
                               p_role text)
returns uuid
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  target uuid;
begin
  if p_role not in ('manager', 'staff') then
    raise exception 'role must be manager or staff' using errcode = '22023';
  end if;
  if not exists (select 1 from app.merchant_members m
                 where m.merchant_id = p_merchant_id and m.user_id = uid
                   and m.role = 'owner') then
    return null;
  end if;
  select u.id into target from auth.users u where u.email = p_email;
  if target is null then
    return null;
  end if;
  insert into app.merchant_members (merchant_id, user_id, role, added_by)
  values (p_merchant_id, target, p_role, uid)
  on conflict (merchant_id, user_id) do nothing;
  return target;
end
$$;

revoke execute on function app.add_member(uuid, text, text) from public;
grant execute on function app.add_member(uuid, text, text) to authenticated;
