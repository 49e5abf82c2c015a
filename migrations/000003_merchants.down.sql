set local role rampart_owner;
drop function if exists app.add_member(uuid, text, text);
drop function if exists app.create_merchant(text, text);
drop table if exists app.market_items;
drop table if exists app.merchant_items;
drop function if exists app.sync_market_item();
drop table if exists app.merchant_pages;
drop table if exists app.merchant_members;
drop table if exists app.merchants;
-- Last: every policy above called it.
drop function if exists app.my_merchant_ids(text);
