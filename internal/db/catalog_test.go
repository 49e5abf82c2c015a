package db_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-dev/rampart/internal/dbtest"
)

// The catalog checks hold every migration, present and future, to the
// rules of the schema: they read what PostgreSQL enforces, not what the
// migrations say.
func TestCatalog(t *testing.T) {
	t.Parallel()
	env := dbtest.New(t, 2)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, env.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(ctx) })

	offenders := func(t *testing.T, q string) []string {
		t.Helper()
		rows, err := admin.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return names
	}

	t.Run("every reachable table has RLS enabled and forced", func(t *testing.T) {
		got := offenders(t, `
select c.oid::regclass::text
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p')
  and (has_schema_privilege('anon', n.oid, 'usage')
    or has_schema_privilege('authenticated', n.oid, 'usage')
    or has_schema_privilege('platform_admin', n.oid, 'usage'))
  and n.nspname not in ('pg_catalog', 'information_schema')
  and not (c.relrowsecurity and c.relforcerowsecurity)`)
		if len(got) > 0 {
			t.Errorf("tables without forced RLS: %v", got)
		}
	})

	t.Run("the request roles reach our schemas", func(t *testing.T) {
		got := offenders(t, `
select s from unnest(array['auth', 'app', 'security']) s
where not has_schema_privilege('authenticated', s, 'usage')`)
		if len(got) > 0 {
			t.Errorf("schemas not reachable: %v", got)
		}
	})

	t.Run("security definer functions pin search_path and deny PUBLIC", func(t *testing.T) {
		got := offenders(t, `
select p.oid::regprocedure::text
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
where p.prosecdef
  and n.nspname not in ('pg_catalog', 'information_schema')
  and (not exists (select 1 from unnest(p.proconfig) c
                   where c like 'search_path=%')
    or has_function_privilege('public', p.oid, 'execute')
    or exists (select 1 from aclexplode(coalesce(p.proacl,
                 acldefault('f', p.proowner))) a
               where a.grantee = 0 and a.privilege_type = 'EXECUTE'))`)
		if len(got) > 0 {
			t.Errorf("unsafe security definer functions: %v", got)
		}
	})

	t.Run("rampart_api owns nothing and bypasses nothing", func(t *testing.T) {
		got := offenders(t, `
select what from (
  select 'superuser' as what from pg_roles
   where rolname = 'rampart_api' and rolsuper
  union all select 'bypassrls' from pg_roles
   where rolname = 'rampart_api' and rolbypassrls
  union all select 'inherits' from pg_roles
   where rolname = 'rampart_api' and rolinherit
  union all select 'owns ' || c.oid::regclass::text from pg_class c
   where c.relowner = 'rampart_api'::regrole
  union all select 'owns function ' || p.oid::regprocedure::text
   from pg_proc p where p.proowner = 'rampart_api'::regrole
  union all select 'owns schema ' || nspname from pg_namespace
   where nspowner = 'rampart_api'::regrole
) x`)
		if len(got) > 0 {
			t.Errorf("rampart_api: %v", got)
		}
	})

	t.Run("no login or request role can create in any schema", func(t *testing.T) {
		got := offenders(t, `
select r || ' in ' || n.nspname
from pg_namespace n,
     unnest(array['rampart_api', 'anon', 'authenticated',
                  'platform_admin']) r
where has_schema_privilege(r, n.oid, 'create')
union all
select r || ' in database'
from unnest(array['rampart_api', 'anon', 'authenticated',
                  'platform_admin']) r
where has_database_privilege(r, current_database(), 'create')`)
		if len(got) > 0 {
			t.Errorf("can create: %v", got)
		}
	})

	t.Run("no view runs with its owner's rights", func(t *testing.T) {
		got := offenders(t, `
select c.oid::regclass::text
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('v', 'm')
  and n.nspname not in ('pg_catalog', 'information_schema')
  and not coalesce('security_invoker=true' = any (c.reloptions), false)`)
		if len(got) > 0 {
			t.Errorf("views without security_invoker: %v", got)
		}
	})

	t.Run("every object belongs to rampart_owner", func(t *testing.T) {
		got := offenders(t, `
select c.oid::regclass::text
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where n.nspname in ('auth', 'app', 'security')
  and c.relowner <> 'rampart_owner'::regrole`)
		if len(got) > 0 {
			t.Errorf("objects not owned by rampart_owner: %v", got)
		}
	})

	t.Run("no request role can read raw PII or secrets", func(t *testing.T) {
		got := offenders(t, `
select r || ' reads ' || c
from unnest(array['anon', 'authenticated', 'platform_admin']) r,
     unnest(array[
       'app.merchant_customers.name_sealed',
       'app.merchant_customers.email_sealed',
       'app.merchant_customers.phone_sealed',
       'app.merchant_customers.address_sealed',
       'app.orders.shipping_address_sealed',
       'auth.users.password_hash',
       'auth.refresh_tokens.token_hash']) c
where has_column_privilege(r, split_part(c, '.', 1) || '.' ||
        split_part(c, '.', 2), split_part(c, '.', 3), 'select')`)
		if len(got) > 0 {
			t.Errorf("readable secrets: %v", got)
		}
	})
}
