set local role rampart_owner;

alter policy orders_select_member on app.orders
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));
