package db

import (
	"context"
	"errors"
	"fmt"
)

// CheckLoginRole refuses a pool whose login could bypass row-level
// security: a superuser, a role with BYPASSRLS, or a role that owns any
// object (owners are exempt from policies unless they are forced, and a
// forgotten FORCE would silently open a table).
func (d *DB) CheckLoginRole(ctx context.Context) error {
	const q = `
select r.rolname,
       r.rolsuper,
       r.rolbypassrls,
       (select count(*) from pg_class c where c.relowner = r.oid)
     + (select count(*) from pg_proc p where p.proowner = r.oid)
     + (select count(*) from pg_namespace n where n.nspowner = r.oid)
       as owned
from pg_roles r
where r.rolname = current_user`
	var name string
	var super, bypass bool
	var owned int64
	err := d.Pool.QueryRow(ctx, q).Scan(&name, &super, &bypass, &owned)
	if err != nil {
		return fmt.Errorf("inspect login role: %w", err)
	}

	var problems []error
	if super {
		problems = append(problems, errors.New("is a superuser"))
	}
	if bypass {
		problems = append(problems, errors.New("has BYPASSRLS"))
	}
	if owned > 0 {
		problems = append(problems, fmt.Errorf("owns %d objects", owned))
	}
	if len(problems) > 0 {
		return fmt.Errorf("login role %q must not serve requests: %w", name,
			errors.Join(problems...))
	}
	return nil
}

// SchemaVersion returns the applied migration version and dirty flag.
func (d *DB) SchemaVersion(ctx context.Context) (uint, bool, error) {
	var v int64
	var dirty bool
	err := d.Pool.QueryRow(ctx,
		`select version, dirty from public.schema_migrations limit 1`).
		Scan(&v, &dirty)
	if err != nil {
		return 0, false, fmt.Errorf("read schema version: %w", err)
	}
	return uint(v), dirty, nil
}
