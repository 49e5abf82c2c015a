set local role rampart_owner;

create table app.merchants (
  id         uuid primary key default gen_random_uuid(),
  name       text not null check (length(name) between 1 and 200),
  slug       text not null unique
             check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$'),
  created_by uuid not null default auth.uid() references auth.users (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table app.merchant_members (
  merchant_id uuid not null references app.merchants (id) on delete cascade,
  user_id     uuid not null references auth.users (id) on delete cascade,
  role        text not null check (role in ('owner', 'manager', 'staff')),
  added_by    uuid references auth.users (id),
  created_at  timestamptz not null default now(),
  primary key (merchant_id, user_id)
);

-- The membership lookup every policy goes through starts from the user.
create index merchant_members_user on app.merchant_members (user_id, role);

-- my_merchant_ids returns the merchants where the caller holds at least
-- p_min_role ('staff' < 'manager' < 'owner'). It is the one place tenant
-- membership is decided. Policies call it as (select app.my_merchant_ids(..))
-- so it runs once per statement, not once per row, and as security definer
-- it reads merchant_members without that table's own policies recursing.
create function app.my_merchant_ids(p_min_role text) returns uuid[]
language sql stable security definer
set search_path = ''
as $$
  select coalesce(array_agg(m.merchant_id), '{}')
  from app.merchant_members m
  where m.user_id = (select auth.uid())
    and case p_min_role
          when 'owner' then m.role = 'owner'
          when 'manager' then m.role in ('owner', 'manager')
          when 'staff' then true
          else false
        end
$$;

create table app.merchant_pages (
  merchant_id   uuid primary key references app.merchants (id)
                on delete cascade,
  slug          text not null unique
                check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$'),
  title         text not null check (length(title) between 1 and 200),
  description   text not null default '' check (length(description) <= 5000),
  contact_email text check (length(contact_email) <= 254),
  contact_phone text check (length(contact_phone) <= 32),
  published     boolean not null default false,
  updated_at    timestamptz not null default now()
);

create table app.merchant_items (
  id          uuid primary key default gen_random_uuid(),
  merchant_id uuid not null references app.merchants (id) on delete cascade,
  sku         text not null check (length(sku) between 1 and 64),
  title       text not null check (length(title) between 1 and 200),
  description text not null default '' check (length(description) <= 5000),
  category    text not null default '' check (length(category) <= 64),
  price_cents bigint not null check (price_cents between 0 and 100000000000),
  currency    text not null default 'BRL' check (currency ~ '^[A-Z]{3}$'),
  stock       integer not null default 0 check (stock >= 0),
  published   boolean not null default false,
  created_by  uuid default auth.uid() references auth.users (id),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  unique (merchant_id, sku),
  -- Target of the composite foreign keys that keep references inside one
  -- tenant: a row can only point at an item of its own merchant.
  unique (id, merchant_id)
);

create index merchant_items_list on app.merchant_items (merchant_id, created_at, id);

create table app.market_items (
  id          uuid primary key default gen_random_uuid(),
  merchant_id uuid not null,
  item_id     uuid not null unique,
  category    text not null default '',
  price_cents bigint not null,
  title       text not null,
  listed_by   uuid default auth.uid() references auth.users (id),
  listed_at   timestamptz not null default now(),
  foreign key (item_id, merchant_id)
    references app.merchant_items (id, merchant_id) on delete cascade
);

-- Public browse: newest first, optionally within one category.
create index market_items_browse on app.market_items (listed_at desc, id desc);
create index market_items_category on app.market_items
  (category, listed_at desc, id desc);
create index market_items_merchant on app.market_items (merchant_id);

-- A listing mirrors its item's public fields so the public browse reads one
-- table; it exists only while the item is published.
create function app.sync_market_item() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if not new.published then
    delete from app.market_items where item_id = new.id;
  else
    update app.market_items
    set category = new.category, price_cents = new.price_cents,
        title = new.title
    where item_id = new.id;
  end if;
  return null;
end
$$;

create trigger merchant_items_sync_market
  after update on app.merchant_items
  for each row execute function app.sync_market_item();

alter table app.merchants enable row level security;
alter table app.merchants force row level security;
alter table app.merchant_members enable row level security;
alter table app.merchant_members force row level security;
alter table app.merchant_pages enable row level security;
alter table app.merchant_pages force row level security;
alter table app.merchant_items enable row level security;
alter table app.merchant_items force row level security;
alter table app.market_items enable row level security;
alter table app.market_items force row level security;

-- merchants: members read; owners and managers rename; platform admins
-- read all. Creation goes through app.create_merchant, which also makes the
-- caller the owner; deletion is not offered.
grant select on app.merchants to authenticated;
grant update (name, updated_at) on app.merchants to authenticated;

create policy merchants_select_member on app.merchants
  for select to authenticated
  using (id = any ((select app.my_merchant_ids('staff'))::uuid[]));

create policy merchants_update_manager on app.merchants
  for update to authenticated
  using (id = any ((select app.my_merchant_ids('manager'))::uuid[]))
  with check (id = any ((select app.my_merchant_ids('manager'))::uuid[]));

create policy merchants_select_admin on app.merchants
  for select to platform_admin
  using (true);

-- merchant_members: members see who else is in their merchant; only owners
-- change roles or remove members, and never an owner row (an owner leaves
-- only by handing over ownership, which keeps every merchant owned).
grant select on app.merchant_members to authenticated;
grant update (role) on app.merchant_members to authenticated;
grant delete on app.merchant_members to authenticated;

create policy members_select_member on app.merchant_members
  for select to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

create policy members_update_owner on app.merchant_members
  for update to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('owner'))::uuid[])
         and role <> 'owner')
  with check (merchant_id = any ((select app.my_merchant_ids('owner'))::uuid[])
              and role <> 'owner');

create policy members_delete_owner on app.merchant_members
  for delete to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('owner'))::uuid[])
         and role <> 'owner');

-- merchant_pages: published pages are public, but anonymous callers cannot
-- read the contact columns at all (column privileges, not a filter in Go).
grant select (merchant_id, slug, title, description, published, updated_at)
  on app.merchant_pages to anon;
grant select on app.merchant_pages to authenticated;
grant update (title, description, contact_email, contact_phone, published,
              updated_at)
  on app.merchant_pages to authenticated;

create policy pages_select_public on app.merchant_pages
  for select to anon, authenticated
  using (published);

create policy pages_select_member on app.merchant_pages
  for select to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

create policy pages_update_member on app.merchant_pages
  for update to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]))
  with check (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

-- merchant_items: published items are public; members manage their own.
grant select (id, merchant_id, sku, title, description, category,
              price_cents, currency, published, created_at, updated_at)
  on app.merchant_items to anon;
grant select on app.merchant_items to authenticated;
grant insert (merchant_id, sku, title, description, category, price_cents,
              currency, stock, published)
  on app.merchant_items to authenticated;
grant update (sku, title, description, category, price_cents, currency,
              stock, published, updated_at)
  on app.merchant_items to authenticated;
grant delete on app.merchant_items to authenticated;

create policy items_select_public on app.merchant_items
  for select to anon, authenticated
  using (published);

create policy items_select_member on app.merchant_items
  for select to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

create policy items_insert_member on app.merchant_items
  for insert to authenticated
  with check (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

create policy items_update_member on app.merchant_items
  for update to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]))
  with check (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

create policy items_delete_manager on app.merchant_items
  for delete to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('manager'))::uuid[]));

-- market_items: the shared market is public; members list and delist their
-- own published items.
grant select on app.market_items to anon, authenticated;
grant insert (merchant_id, item_id, category, price_cents, title)
  on app.market_items to authenticated;
grant delete on app.market_items to authenticated;

create policy market_select_public on app.market_items
  for select to anon, authenticated
  using (true);

create policy market_insert_member on app.market_items
  for insert to authenticated
  with check (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

create policy market_delete_member on app.market_items
  for delete to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

-- create_merchant creates a merchant owned by the caller, with an
-- unpublished page of the same slug, and returns the merchant id. It is a
-- security definer because the caller is not yet a member when it runs.
create function app.create_merchant(p_name text, p_slug text) returns uuid
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  mid uuid;
begin
  if uid is null then
    raise exception 'no authenticated user' using errcode = '42501';
  end if;
  insert into app.merchants (name, slug, created_by)
  values (p_name, p_slug, uid)
  returning id into mid;
  insert into app.merchant_members (merchant_id, user_id, role, added_by)
  values (mid, uid, 'owner', uid);
  insert into app.merchant_pages (merchant_id, slug, title)
  values (mid, p_slug, p_name);
  return mid;
end
$$;

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

revoke execute on all functions in schema app from public;
grant execute on function app.my_merchant_ids(text) to authenticated;
grant execute on function app.create_merchant(text, text),
  app.add_member(uuid, text, text) to authenticated;
