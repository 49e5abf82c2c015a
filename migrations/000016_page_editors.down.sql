set local role rampart_owner;

drop policy pages_update_manager on app.merchant_pages;

create policy pages_update_member on app.merchant_pages
  for update to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]))
  with check (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));
