set local role rampart_owner;

-- A market listing shows its price with the item's currency, kept in step
-- with the item like its title, category and price. Without it the public
-- market showed amounts with no unit, and price filters compared cents of
-- different currencies.
alter table app.market_items add column currency text;

update app.market_items l
set currency = i.currency
from app.merchant_items i
where i.id = l.item_id;

alter table app.market_items alter column currency set not null;

grant insert (currency) on app.market_items to authenticated;

create or replace function app.sync_market_item() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if not new.published then
    delete from app.market_items where item_id = new.id;
  else
    update app.market_items
    set category = new.category, price_cents = new.price_cents,
        title = new.title, currency = new.currency
    where item_id = new.id;
  end if;
  return null;
end
$$;

drop trigger merchant_items_sync_market on app.merchant_items;
create trigger merchant_items_sync_market
  after update of published, category, price_cents, title, currency
  on app.merchant_items
  for each row execute function app.sync_market_item();
