set local role rampart_owner;

-- Orders respect stock, currency and totals, whoever writes them:
--
--   * inserting an order's lines reserves their items' stock, in the same
--     statement; several lines of one item add up, and a line that does not
--     fit aborts the whole order;
--   * every line's item has the order's currency;
--   * the payments of an order never add up to more than its total;
--   * canceling an order gives its stock back, once; reopening a canceled
--     order takes it again, or is refused when it is gone.
--
-- The service sends an order in one batch and maps these errors to its
-- answers, so the checks cost no extra round trip. Each names what failed
-- by SQLSTATE; DETAIL carries the offending line's line_no (1-based, the
-- position of the line in the request plus one) and nothing else:
--   RA002  not enough stock for a line
--   RA003  the order's lines are in different currencies
--   RA004  the lines' currency is not the order's currency
--   RA005  the payments add up to more than the order total
--   RA008  a canceled order cannot reopen: an item of the line is gone
--   RA009  lines may only be added to a pending order that holds its stock
--          (the service adds every line with its order, so only another
--          writer can meet this one)

-- Runs once per insert statement on order_lines, after the composite
-- foreign keys (row triggers) have checked that every item is the
-- merchant's. Security definer: the reservation is the order's doing, not
-- an edit of items by the caller, and must not depend on which items or
-- columns the caller's role may update.
create function app.reserve_order_lines() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  bad record;
  r record;
  line integer;
begin
  select n.line_no into line
  from new_lines n
  join app.orders o on o.id = n.order_id
  where o.status <> 'pending' or not o.stock_reserved
  order by n.order_id, n.line_no
  limit 1;
  if found then
    raise exception using errcode = 'RA009',
      message = 'lines may only be added to a pending order',
      detail = line::text;
  end if;

  select n.line_no,
         (select count(distinct i2.currency)
          from new_lines n2
          join app.merchant_items i2
            on i2.id = n2.item_id and i2.merchant_id = n2.merchant_id
          where n2.order_id = n.order_id) as currencies
  into bad
  from new_lines n
  join app.merchant_items i
    on i.id = n.item_id and i.merchant_id = n.merchant_id
  join app.orders o on o.id = n.order_id
  where i.currency <> o.currency
  order by n.order_id, n.line_no
  limit 1;
  if found then
    if bad.currencies > 1 then
      raise exception using errcode = 'RA003',
        message = 'order lines are in different currencies',
        detail = bad.line_no::text;
    end if;
    raise exception using errcode = 'RA004',
      message = 'the items'' currency is not the order''s',
      detail = bad.line_no::text;
  end if;

  -- Items are locked in id order, so two orders naming the same items
  -- never wait on each other in a cycle. The condition is re-read on the
  -- locked row: concurrent orders for the last units cannot both pass.
  for r in
    select n.merchant_id, n.item_id, sum(n.quantity) as qty
    from new_lines n
    where n.item_id is not null
    group by n.merchant_id, n.item_id
    order by n.item_id
  loop
    update app.merchant_items i
    set stock = i.stock - r.qty
    where i.id = r.item_id and i.merchant_id = r.merchant_id
      and i.stock >= r.qty;
    if not found then
      -- The first line at which the item's quantities, added up in line
      -- order, exceed its stock.
      select s.line_no into line
      from (select n.line_no,
                   sum(n.quantity) over (order by n.order_id, n.line_no)
                     as upto
            from new_lines n
            where n.item_id = r.item_id) s
      where s.upto > (select i.stock from app.merchant_items i
                      where i.id = r.item_id)
      order by s.upto
      limit 1;
      if line is null then
        select min(n.line_no) into line
        from new_lines n where n.item_id = r.item_id;
      end if;
      raise exception using errcode = 'RA002',
        message = 'not enough stock', detail = line::text;
    end if;
  end loop;
  return null;
end
$$;

create trigger order_lines_reserve_stock
  after insert on app.order_lines
  referencing new table as new_lines
  for each statement execute function app.reserve_order_lines();

-- Payments are checked against the total the lines trigger computed, so
-- they are inserted after the lines. A historical import may record
-- payments the dataset holds even where they exceed the total it can
-- rebuild (prices changed over time, installment interest): the importer,
-- and only it, sets rampart.historical_import to 'on' for the statements
-- of one order (internal/seed through marketplace.OrderInput, never from
-- a request body).
create function app.check_order_payments() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if coalesce(current_setting('rampart.historical_import', true), '') = 'on' then
    return null;
  end if;
  if exists (
    select 1
    from app.orders o
    where o.id in (select distinct n.order_id from new_payments n)
      and o.total_cents < (select sum(p.amount_cents)
                           from app.order_payments p
                           where p.order_id = o.id)
  ) then
    raise exception using errcode = 'RA005',
      message = 'payments add up to more than the order total';
  end if;
  return null;
end
$$;

create trigger order_payments_within_total
  after insert on app.order_payments
  referencing new table as new_payments
  for each statement execute function app.check_order_payments();

-- An order is created pending: only status changes, checked and
-- stock-keeping, move it on.
revoke insert (status) on app.orders from authenticated;

-- Whether the order holds its items' units. Orders placed before this
-- migration never took any, so they must not give any back when canceled:
-- they start false, every order placed from now on true.
alter table app.orders add column stock_reserved boolean not null default false;
alter table app.orders alter column stock_reserved set default true;

-- Canceling gives the order's units back to the items that still exist,
-- if it holds them; leaving canceled takes them again, in item id order,
-- or raises RA002 naming the first line of an item that no longer has
-- them, or RA008 naming the first line whose item was deleted meanwhile.
-- It runs before the row is written so that it can record the change in
-- stock_reserved. The row lock on the order makes each transition happen
-- once: a second, concurrent cancel sees the order already canceled and
-- changes nothing.
create function app.order_status_stock() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  r record;
  gone integer;
  releasing boolean := new.status = 'canceled';
begin
  -- Release only what is held, take only what is not: each transition
  -- moves the units once, whatever wrote the order before.
  if releasing = not old.stock_reserved then
    return new;
  end if;
  if not releasing then
    select min(l.line_no) into gone
    from app.order_lines l
    where l.order_id = new.id and l.item_id is null;
    if gone is not null then
      raise exception using errcode = 'RA008',
        message = 'an item of the order no longer exists',
        detail = gone::text;
    end if;
  end if;
  for r in
    select l.item_id, sum(l.quantity) as qty, min(l.line_no) as line_no
    from app.order_lines l
    where l.order_id = new.id and l.item_id is not null
    group by l.item_id
    order by l.item_id
  loop
    if releasing then
      update app.merchant_items i
      set stock = i.stock + r.qty
      where i.id = r.item_id and i.merchant_id = new.merchant_id;
    else
      update app.merchant_items i
      set stock = i.stock - r.qty
      where i.id = r.item_id and i.merchant_id = new.merchant_id
        and i.stock >= r.qty;
      if not found then
        raise exception using errcode = 'RA002',
          message = 'not enough stock', detail = r.line_no::text;
      end if;
    end if;
  end loop;
  new.stock_reserved := not releasing;
  return new;
end
$$;

create trigger orders_status_stock
  before update of status on app.orders
  for each row
  when ((old.status = 'canceled') <> (new.status = 'canceled'))
  execute function app.order_status_stock();

-- Every order now updates its items' stock: the listing mirror only needs
-- to hear of changes to the fields it copies, not of each sale.
drop trigger merchant_items_sync_market on app.merchant_items;
create trigger merchant_items_sync_market
  after update of published, category, price_cents, title
  on app.merchant_items
  for each row execute function app.sync_market_item();

revoke execute on function app.reserve_order_lines(),
  app.check_order_payments(), app.order_status_stock() from public;
