set local role rampart_owner;
drop table if exists app.order_payments;
drop table if exists app.order_lines;
drop function if exists app.check_order_line();
drop function if exists app.recompute_order_totals();
drop table if exists app.orders;
drop table if exists app.merchant_customers;
