set local role rampart_owner;

-- Customer PII is sealed in the service before it reaches the database:
-- each *_sealed column holds an AEAD ciphertext carrying its key id, each
-- *_mask the rendering shown by default, computed at write time, and each
-- *_bidx a keyed hash of the normalised value for exact-match lookups. A
-- dump of this table leaks no PII.
create table app.merchant_customers (
  id             uuid primary key default gen_random_uuid(),
  merchant_id    uuid not null references app.merchants (id) on delete cascade,
  external_ref   text check (length(external_ref) <= 64),
  name_sealed    bytea,
  name_mask      text,
  email_sealed   bytea,
  email_mask     text,
  email_bidx     bytea,
  phone_sealed   bytea,
  phone_mask     text,
  phone_bidx     bytea,
  address_sealed bytea,
  address_mask   text,
  created_by     uuid default auth.uid() references auth.users (id),
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),
  unique (merchant_id, external_ref),
  unique (id, merchant_id)
);

create index merchant_customers_list on app.merchant_customers
  (merchant_id, created_at, id);
create index merchant_customers_email on app.merchant_customers
  (merchant_id, email_bidx) where email_bidx is not null;
create index merchant_customers_phone on app.merchant_customers
  (merchant_id, phone_bidx) where phone_bidx is not null;

create table app.orders (
  id                      uuid primary key default gen_random_uuid(),
  merchant_id             uuid not null references app.merchants (id)
                          on delete cascade,
  customer_id             uuid not null,
  external_ref            text check (length(external_ref) <= 64),
  status                  text not null default 'pending'
                          check (status in ('pending', 'processing',
                                 'invoiced', 'shipped', 'delivered',
                                 'canceled', 'unavailable')),
  currency                text not null default 'BRL'
                          check (currency ~ '^[A-Z]{3}$'),
  subtotal_cents          bigint not null default 0,
  freight_cents           bigint not null default 0,
  total_cents             bigint not null default 0,
  shipping_address_sealed bytea,
  shipping_address_mask   text,
  created_by              uuid default auth.uid() references auth.users (id),
  created_at              timestamptz not null default now(),
  updated_at              timestamptz not null default now(),
  unique (merchant_id, external_ref),
  unique (id, merchant_id),
  -- An order can only name a customer of its own merchant.
  foreign key (customer_id, merchant_id)
    references app.merchant_customers (id, merchant_id)
);

create index orders_list on app.orders (merchant_id, created_at desc, id desc);
create index orders_customer on app.orders (customer_id);

create table app.order_lines (
  id               uuid primary key default gen_random_uuid(),
  order_id         uuid not null,
  merchant_id      uuid not null,
  line_no          integer not null check (line_no between 1 and 1000),
  item_id          uuid,
  title            text not null,
  quantity         integer not null check (quantity between 1 and 10000),
  unit_price_cents bigint not null check (unit_price_cents >= 0),
  freight_cents    bigint not null default 0 check (freight_cents >= 0),
  line_total_cents bigint not null,
  unique (order_id, line_no),
  foreign key (order_id, merchant_id)
    references app.orders (id, merchant_id) on delete cascade,
  -- Lines reference only the merchant's own items; a deleted item leaves
  -- the line (with its title and price) for the books.
  foreign key (item_id, merchant_id)
    references app.merchant_items (id, merchant_id)
    on delete set null (item_id)
);

create index order_lines_item on app.order_lines (item_id);

-- Payments hold a provider token, the card brand and last four digits at
-- most; raw card numbers are refused before they reach the database.
create table app.order_payments (
  id             uuid primary key default gen_random_uuid(),
  order_id       uuid not null,
  merchant_id    uuid not null,
  seq            integer not null check (seq between 1 and 100),
  method         text not null check (method in ('credit_card', 'debit_card',
                                      'boleto', 'voucher', 'pix')),
  provider_token text check (length(provider_token) <= 128),
  brand          text check (length(brand) <= 32),
  last4          text check (last4 ~ '^[0-9]{4}$'),
  installments   integer not null default 1 check (installments between 1 and 48),
  amount_cents   bigint not null check (amount_cents >= 0),
  created_at     timestamptz not null default now(),
  unique (order_id, seq),
  foreign key (order_id, merchant_id)
    references app.orders (id, merchant_id) on delete cascade
);

alter table app.merchant_customers enable row level security;
alter table app.merchant_customers force row level security;
alter table app.orders enable row level security;
alter table app.orders force row level security;
alter table app.order_lines enable row level security;
alter table app.order_lines force row level security;
alter table app.order_payments enable row level security;
alter table app.order_payments force row level security;

-- Customers: members of the merchant only. No request role can select the
-- sealed columns; they write them, and read masks. The blind indexes are
-- readable so exact-match lookups can filter on them: a keyed hash shows
-- only whether two values are equal, never a value.
grant select (id, merchant_id, external_ref, name_mask, email_mask,
              email_bidx, phone_mask, phone_bidx, address_mask, created_at,
              updated_at)
  on app.merchant_customers to authenticated;
grant insert (id, merchant_id, external_ref, name_sealed, name_mask,
              email_sealed, email_mask, email_bidx, phone_sealed, phone_mask,
              phone_bidx, address_sealed, address_mask)
  on app.merchant_customers to authenticated;
grant update (external_ref, name_sealed, name_mask, email_sealed, email_mask,
              email_bidx, phone_sealed, phone_mask, phone_bidx,
              address_sealed, address_mask, updated_at)
  on app.merchant_customers to authenticated;
grant delete on app.merchant_customers to authenticated;

create policy customers_select_member on app.merchant_customers
  for select to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

create policy customers_insert_member on app.merchant_customers
  for insert to authenticated
  with check (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

create policy customers_update_member on app.merchant_customers
  for update to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]))
  with check (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

create policy customers_delete_manager on app.merchant_customers
  for delete to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('manager'))::uuid[]));

-- Orders, lines and payments: members of the merchant. Totals and the
-- creator are server-owned: not writable by any request role.
grant select (id, merchant_id, customer_id, external_ref, status, currency,
              subtotal_cents, freight_cents, total_cents,
              shipping_address_mask, created_by, created_at, updated_at)
  on app.orders to authenticated;
grant insert (id, merchant_id, customer_id, external_ref, status, currency,
              shipping_address_sealed, shipping_address_mask)
  on app.orders to authenticated;
grant update (status, updated_at) on app.orders to authenticated;

create policy orders_select_member on app.orders
  for select to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

create policy orders_insert_member on app.orders
  for insert to authenticated
  with check (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

create policy orders_update_member on app.orders
  for update to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]))
  with check (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

grant select on app.order_lines to authenticated;
grant insert (order_id, merchant_id, line_no, item_id, title, quantity,
              unit_price_cents, freight_cents, line_total_cents)
  on app.order_lines to authenticated;

create policy lines_select_member on app.order_lines
  for select to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

create policy lines_insert_member on app.order_lines
  for insert to authenticated
  with check (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

grant select on app.order_payments to authenticated;
grant insert (order_id, merchant_id, seq, method, provider_token, brand,
              last4, installments, amount_cents)
  on app.order_payments to authenticated;

create policy payments_select_member on app.order_payments
  for select to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

create policy payments_insert_member on app.order_payments
  for insert to authenticated
  with check (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));

-- Order totals are computed here from the lines, so no client and no bug in
-- a handler can set them. Runs once per insert statement on order_lines.
create function app.recompute_order_totals() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  update app.orders o
  set subtotal_cents = t.sub, freight_cents = t.freight,
      total_cents = t.sub + t.freight, updated_at = now()
  from (
    select l.order_id, sum(l.line_total_cents) as sub,
           sum(l.freight_cents) as freight
    from app.order_lines l
    where l.order_id in (select distinct n.order_id from new_lines n)
    group by l.order_id
  ) t
  where o.id = t.order_id;
  return null;
end
$$;

create trigger order_lines_totals
  after insert on app.order_lines
  referencing new table as new_lines
  for each statement execute function app.recompute_order_totals();

-- A line's total is its quantity times its unit price; the price itself is
-- taken from the item by the service in the same transaction.
create function app.check_order_line() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.line_total_cents := new.quantity * new.unit_price_cents;
  return new;
end
$$;

create trigger order_lines_line_total
  before insert on app.order_lines
  for each row execute function app.check_order_line();

revoke execute on all functions in schema app from public;
grant execute on function app.my_merchant_ids(text) to authenticated;
grant execute on function app.create_merchant(text, text),
  app.add_member(uuid, text, text) to authenticated;
