set local role rampart_owner;

-- A merchant's storefront page is public, and its contact email and phone
-- are what a shopper trusts: a member who could re-point them could phish
-- the merchant's customers in the merchant's name. Editing the page, like
-- renaming the merchant, is for owners and managers; staff still read it
-- (pages_select_member).
drop policy pages_update_member on app.merchant_pages;

create policy pages_update_manager on app.merchant_pages
  for update to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('manager'))::uuid[]))
  with check (merchant_id = any ((select app.my_merchant_ids('manager'))::uuid[]));
