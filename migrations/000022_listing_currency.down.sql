set local role rampart_owner;

drop trigger merchant_items_sync_market on app.merchant_items;
create trigger merchant_items_sync_market
  after update of published, category, price_cents, title
  on app.merchant_items
  for each row execute function app.sync_market_item();

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
        title = new.title
    where item_id = new.id;
  end if;
  return null;
end
$$;

alter table app.market_items drop column currency;
