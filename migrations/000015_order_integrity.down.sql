set local role rampart_owner;

drop trigger merchant_items_sync_market on app.merchant_items;
create trigger merchant_items_sync_market
  after update on app.merchant_items
  for each row execute function app.sync_market_item();

drop trigger orders_status_stock on app.orders;
drop function app.order_status_stock();
alter table app.orders drop column stock_reserved;
grant insert (status) on app.orders to authenticated;

drop trigger order_payments_within_total on app.order_payments;
drop function app.check_order_payments();

drop trigger order_lines_reserve_stock on app.order_lines;
drop function app.reserve_order_lines();
