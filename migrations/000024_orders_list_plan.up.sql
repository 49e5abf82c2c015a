set local role rampart_owner;

-- A merchant's order list (merchant_id = $1, newest first, a page at a
-- time) should walk orders_list backwards and stop after one page. The
-- membership test of the select policy, written merchant_id = any(<the
-- caller's merchants>), reads to the planner as a second condition on
-- merchant_id, against an array it cannot see and so estimates at half a
-- percent of the rows. Multiplied with the merchant's own share it
-- predicts a handful of orders even for a merchant with thousands, and the
-- planner then fetches all of them through a bitmap scan and sorts them
-- for every page: on the marketplace dataset, 2,261 rows read for a page
-- of 20 by the bigger sellers, and the cost grows with each new order.
--
-- Wrapped in coalesce() the same test is an opaque boolean to the planner,
-- estimated true for half the rows and applied as a filter to the rows the
-- index returns. The test itself is unchanged: merchant_id is never null,
-- and neither is the array, so coalesce() never has to supply its false.
alter policy orders_select_member on app.orders
  using (coalesce(merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]),
                  false));
