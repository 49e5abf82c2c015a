set local role rampart_owner;
drop function if exists app.erase_customer(uuid, uuid);
drop function if exists app.update_customer(uuid, uuid, text, bytea, text,
  bytea, text, bytea, bytea, text, bytea, bytea, text);
drop function if exists security.get_customer_data_secure(uuid, text, uuid,
  uuid[], bytea, bytea, timestamptz, uuid, integer, text);
drop function if exists security.audit_customer_access(uuid, uuid[], text,
  text[], text, text);
drop function if exists security.check_customer_data_access_limit(uuid, text,
  uuid[]);
drop function if exists security.log_security_event(text, text, jsonb, uuid);
drop function if exists security.request_ip();
alter table app.merchant_customers drop column if exists erased_at;

grant select (id, merchant_id, external_ref, name_mask, email_mask,
              email_bidx, phone_mask, phone_bidx, address_mask, created_at,
              updated_at)
  on app.merchant_customers to authenticated;
grant update (external_ref, name_sealed, name_mask, email_sealed, email_mask,
              email_bidx, phone_sealed, phone_mask, phone_bidx,
              address_sealed, address_mask, updated_at)
  on app.merchant_customers to authenticated;
grant delete on app.merchant_customers to authenticated;
create policy customers_select_member on app.merchant_customers
  for select to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));
create policy customers_update_member on app.merchant_customers
  for update to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]))
  with check (merchant_id = any ((select app.my_merchant_ids('staff'))::uuid[]));
create policy customers_delete_manager on app.merchant_customers
  for delete to authenticated
  using (merchant_id = any ((select app.my_merchant_ids('manager'))::uuid[]));

drop table if exists security.customer_access_limits;
drop table if exists security.customer_access_audit;
drop table if exists security.security_events;
