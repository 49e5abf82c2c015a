set local role rampart_owner;

drop trigger orders_status_check_transition on app.orders;
drop function app.check_order_transition();
drop table app.order_transitions;
