-- scale.sql multiplies the customers and orders of every merchant by
-- :factor, cloning each (with its order lines and payments) under new ids,
-- so every distribution of the dataset stays as it was, only :factor times
-- larger per merchant. Merchants, accounts, items and listings stay as
-- loaded. Run as a superuser: psql -v factor=N -f bench/sql/scale.sql.
--
-- SQL, not the API: 200 thousand orders through the API would take most
-- of an hour. The clones skip triggers and foreign-key checks
-- (session_replication_role = replica) because they copy rows that passed
-- them, totals included. Sealed values are copied as they are; they stay
-- bound to the original row's id, so a clone's masked fields read fine but
-- its reveal fails to open, which no scenario does.
\set ON_ERROR_STOP on
set synchronous_commit = off;
set session_replication_role = replica;

create temp table bench_customer_clones as
select c.id as old_id, gen_random_uuid() as new_id, n
from app.merchant_customers c
cross join generate_series(1, :factor - 1) n;

insert into app.merchant_customers
  (id, merchant_id, external_ref, name_sealed, name_mask, email_sealed,
   email_mask, email_bidx, phone_sealed, phone_mask, phone_bidx,
   address_sealed, address_mask, created_by, created_at, updated_at,
   erased_at)
select m.new_id,
       c.merchant_id,
       left(c.external_ref, 56) || '~' || m.n,
       c.name_sealed,
       c.name_mask,
       c.email_sealed,
       c.email_mask,
       c.email_bidx,
       c.phone_sealed,
       c.phone_mask,
       c.phone_bidx,
       c.address_sealed,
       c.address_mask,
       c.created_by,
       c.created_at - interval '1 day' * m.n,
       c.updated_at - interval '1 day' * m.n,
       c.erased_at
from bench_customer_clones m
join app.merchant_customers c on c.id = m.old_id;

create temp table bench_order_clones as
select o.id as old_id, gen_random_uuid() as new_id, n
from app.orders o
cross join generate_series(1, :factor - 1) n;

insert into app.orders
  (id, merchant_id, customer_id, external_ref, status, currency,
   subtotal_cents, freight_cents, total_cents, shipping_address_sealed,
   shipping_address_mask, created_by, created_at, updated_at)
select m.new_id,
       o.merchant_id,
       cc.new_id,
       left(o.external_ref, 56) || '~' || m.n,
       o.status,
       o.currency,
       o.subtotal_cents,
       o.freight_cents,
       o.total_cents,
       o.shipping_address_sealed,
       o.shipping_address_mask,
       o.created_by,
       o.created_at - interval '1 day' * m.n,
       o.updated_at - interval '1 day' * m.n
from bench_order_clones m
join app.orders o on o.id = m.old_id
join bench_customer_clones cc on cc.old_id = o.customer_id and cc.n = m.n;

insert into app.order_lines
  (order_id, merchant_id, line_no, item_id, title, quantity,
   unit_price_cents, freight_cents, line_total_cents)
select m.new_id,
       l.merchant_id,
       l.line_no,
       l.item_id,
       l.title,
       l.quantity,
       l.unit_price_cents,
       l.freight_cents,
       l.line_total_cents
from bench_order_clones m
join app.order_lines l on l.order_id = m.old_id;

insert into app.order_payments
  (order_id, merchant_id, seq, method, provider_token, brand, last4,
   installments, amount_cents, created_at)
select m.new_id,
       p.merchant_id,
       p.seq,
       p.method,
       p.provider_token,
       p.brand,
       p.last4,
       p.installments,
       p.amount_cents,
       p.created_at - interval '1 day' * m.n
from bench_order_clones m
join app.order_payments p on p.order_id = m.old_id;

reset session_replication_role;
vacuum (analyze) app.merchant_customers, app.orders, app.order_lines,
  app.order_payments;
