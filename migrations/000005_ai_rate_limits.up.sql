set local role rampart_owner;

-- Budgets of the "ai" route class, one row per feature. Every signed-in
-- user reads them (the frontend shows remaining budgets); only platform
-- admins change them.
create table app.ai_rate_limits_config (
  feature             text primary key check (feature ~ '^[a-z][a-z0-9_]{1,39}$'),
  requests_per_minute integer not null check (requests_per_minute between 0 and 100000),
  burst               integer not null check (burst between 0 and 100000),
  enabled             boolean not null default true,
  updated_by          uuid default auth.uid() references auth.users (id),
  updated_at          timestamptz not null default now()
);

insert into app.ai_rate_limits_config (feature, requests_per_minute, burst,
                                       updated_by)
values ('describe_item', 10, 5, null),
       ('suggest_price', 20, 10, null);

alter table app.ai_rate_limits_config enable row level security;
alter table app.ai_rate_limits_config force row level security;

grant select on app.ai_rate_limits_config to authenticated;
grant insert (feature, requests_per_minute, burst, enabled),
      update (requests_per_minute, burst, enabled, updated_at),
      delete
  on app.ai_rate_limits_config to platform_admin;

create policy ai_limits_select on app.ai_rate_limits_config
  for select to authenticated
  using (true);

create policy ai_limits_insert_admin on app.ai_rate_limits_config
  for insert to platform_admin
  with check (true);

create policy ai_limits_update_admin on app.ai_rate_limits_config
  for update to platform_admin
  using (true) with check (true);

create policy ai_limits_delete_admin on app.ai_rate_limits_config
  for delete to platform_admin
  using (true);
