set local role rampart_owner;

-- An order moves forward only:
--
--   pending     -> processing, invoiced, canceled, unavailable
--   processing  -> invoiced, shipped, canceled, unavailable
--   invoiced    -> processing, shipped, canceled, unavailable
--   shipped     -> delivered
--   unavailable -> canceled
--   canceled    -> pending   (reopening takes the stock again)
--   delivered   -> nothing
--
-- Setting the status an order already has changes nothing and is allowed.
-- Anything else raises RA007, which the service answers with 409. Without
-- this, a member could cancel a delivered order and so put units back in
-- stock that were long gone. internal/marketplace.OrderTransitions is the
-- same table for the service's own use; this trigger is what holds.
create table app.order_transitions (
  from_status text not null,
  to_status   text not null,
  primary key (from_status, to_status)
);

insert into app.order_transitions values
  ('pending', 'processing'), ('pending', 'invoiced'),
  ('pending', 'canceled'), ('pending', 'unavailable'),
  ('processing', 'invoiced'), ('processing', 'shipped'),
  ('processing', 'canceled'), ('processing', 'unavailable'),
  ('invoiced', 'processing'), ('invoiced', 'shipped'),
  ('invoiced', 'canceled'), ('invoiced', 'unavailable'),
  ('shipped', 'delivered'),
  ('unavailable', 'canceled'),
  ('canceled', 'pending');

-- Reference data: readable by no request role (the trigger reads it as
-- its owner), so it needs no policy beyond being forced.
alter table app.order_transitions enable row level security;
alter table app.order_transitions force row level security;

create function app.check_order_transition() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.status = old.status then
    return new;
  end if;
  if not exists (select 1 from app.order_transitions t
                 where t.from_status = old.status
                   and t.to_status = new.status) then
    raise exception using errcode = 'RA007',
      message = 'order status cannot change this way',
      detail = old.status;
  end if;
  return new;
end
$$;

-- Named to fire before orders_status_stock (row triggers of one event fire
-- in name order): a refused transition answers RA007, not a stock error.
create trigger orders_status_check_transition
  before update of status on app.orders
  for each row execute function app.check_order_transition();

revoke execute on function app.check_order_transition() from public;
