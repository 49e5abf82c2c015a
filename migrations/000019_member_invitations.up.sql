set local role rampart_owner;

-- Members join a merchant by accepting an invitation.
--
-- Adding a member by email used to answer 404 for an email without an
-- account and 201 for one with an account: any owner (and anyone can own a
-- merchant) could learn which emails have accounts, and could put anyone
-- in their merchant without asking. Now an owner invites an email: the
-- answer is the same whether or not an account has that email, and the
-- membership exists only once the account holder accepts.
--
-- Accepting takes the invitation's secret token as well as an account with
-- the invited email. Sign-up does not prove that someone owns an email
-- address, so the email alone would let anyone who registers the invited
-- address first take the membership. The owner gets the token once, in the
-- answer to the invitation, and hands it to the person they mean (in the
-- invitation link they send); only its SHA-256 is stored.
create table app.merchant_invitations (
  id            uuid primary key default gen_random_uuid(),
  merchant_id   uuid not null references app.merchants (id) on delete cascade,
  -- The merchant's name when the invitation was made, shown to the
  -- invitee, who cannot read the merchant before joining.
  merchant_name text not null,
  -- Normalised as sign-in normalises it (NFKC, case-folded), so it
  -- matches auth.users.email exactly.
  email         text not null check (length(email) between 3 and 254),
  role          text not null check (role in ('manager', 'staff')),
  token_hash    bytea not null check (length(token_hash) = 32),
  invited_by    uuid references auth.users (id) on delete set null,
  created_at    timestamptz not null default now(),
  expires_at    timestamptz not null default now() + interval '7 days',
  unique (merchant_id, email)
);

create index merchant_invitations_email on app.merchant_invitations (email);

alter table app.merchant_invitations enable row level security;
alter table app.merchant_invitations force row level security;

grant select (id, merchant_id, merchant_name, email, role, invited_by,
              created_at, expires_at)
  on app.merchant_invitations to authenticated;
grant delete on app.merchant_invitations to authenticated;
grant insert (merchant_id, merchant_name, email, role, token_hash, invited_by)
  on app.merchant_invitations to authenticated;
grant update (merchant_name, role, token_hash, invited_by, created_at,
              expires_at)
  on app.merchant_invitations to authenticated;

-- The invitee is the account whose email the invitation names.
create function app.my_email() returns text
language sql stable security definer
set search_path = ''
as $$
  select u.email from auth.users u where u.id = auth.uid()
$$;

-- Owners see, make, renew and withdraw their merchant's invitations; the
-- account with the invited email sees them. Declining, like accepting,
-- takes the token (decline_invitation): whoever registered the address
-- first must not be able to throw away the real invitee's invitation.
create policy invitations_select on app.merchant_invitations
  for select to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('owner'))::uuid[])
         or email = (select app.my_email()));

create policy invitations_insert_owner on app.merchant_invitations
  for insert to authenticated
  with check (merchant_id = any ((select app.my_merchant_ids('owner'))::uuid[])
              and invited_by = (select auth.uid()));

create policy invitations_update_owner on app.merchant_invitations
  for update to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('owner'))::uuid[]))
  with check (merchant_id = any ((select app.my_merchant_ids('owner'))::uuid[])
              and invited_by = (select auth.uid()));

create policy invitations_delete_owner on app.merchant_invitations
  for delete to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('owner'))::uuid[]));

-- A merchant holds at most 100 open invitations: inviting is cheap for
-- the inviter and should not become a way to spam addresses. Renewing an
-- expired invitation opens it again, so updates are counted too; the
-- merchant's row lock makes concurrent invitations count one another.
create function app.limit_open_invitations() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform 1 from app.merchants m where m.id = new.merchant_id for update;
  if (select count(*) from app.merchant_invitations i
      where i.merchant_id = new.merchant_id and i.expires_at > now()) > 100 then
    raise exception using errcode = 'RA006',
      message = 'too many open invitations';
  end if;
  return null;
end
$$;

create trigger merchant_invitations_limit
  after insert or update on app.merchant_invitations
  for each row execute function app.limit_open_invitations();

-- accept_invitation makes the caller a member as the invitation says and
-- removes it, returning the merchant id; NULL when there is no such live
-- invitation for the caller's email with that token (another user's, a
-- wrong token, expired, withdrawn). A caller who already belongs keeps
-- their role and the invitation is used up. Security definer: the caller
-- is not a member yet.
create function app.accept_invitation(p_id uuid, p_token_hash bytea)
returns uuid
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  inv app.merchant_invitations%rowtype;
begin
  if uid is null then
    return null;
  end if;
  delete from app.merchant_invitations i
  where i.id = p_id
    and i.email = (select u.email from auth.users u where u.id = uid)
    and i.token_hash = p_token_hash
    and i.expires_at > now()
  returning * into inv;
  if not found then
    return null;
  end if;
  insert into app.merchant_members (merchant_id, user_id, role, added_by)
  values (inv.merchant_id, uid, inv.role, inv.invited_by)
  on conflict (merchant_id, user_id) do nothing;
  return inv.merchant_id;
end
$$;

-- decline_invitation deletes an invitation to the caller's email given its
-- token, and reports whether there was one.
create function app.decline_invitation(p_id uuid, p_token_hash bytea)
returns boolean
language sql volatile security definer
set search_path = ''
as $$
  with gone as (
    delete from app.merchant_invitations i
    where i.id = p_id
      and i.email = (select u.email from auth.users u where u.id = auth.uid())
      and i.token_hash = p_token_hash
    returning 1)
  select exists (select 1 from gone)
$$;

-- Nothing adds a member by email any more.
drop function app.add_member(uuid, text, text);

revoke execute on function app.my_email(), app.limit_open_invitations(),
  app.accept_invitation(uuid, bytea), app.decline_invitation(uuid, bytea)
  from public;
grant execute on function app.my_email(), app.accept_invitation(uuid, bytea),
  app.decline_invitation(uuid, bytea)
  to authenticated;
