-- audit.sql adds :rows synthetic rows to security.customer_access_audit, as
-- if the owners of every merchant had been reading their customers for the
-- last 90 days: spread over owners, merchants and time (oldest first, as
-- an append-only table is), with the mix of kinds and results that real
-- reads leave. Run as a superuser: psql -v rows=N -f bench/sql/audit.sql.
--
-- The rows are written already sealed, with chain_seq after the last
-- sealed row and a stand-in chain_hash, so the service's sealer has no
-- backlog to hash during a benchmark. `rampart audit verify` on a bench
-- database therefore reports the chain broken at the first synthetic row.
\set ON_ERROR_STOP on
set synchronous_commit = off;
set maintenance_work_mem = '512MB';

-- Who reads whom: each merchant's owner and up to 200 of its customers.
create temp table bench_readers as
select (row_number() over (order by mm.merchant_id) - 1)::integer as i,
       mm.user_id,
       mm.merchant_id,
       array(select c.id from app.merchant_customers c
             where c.merchant_id = mm.merchant_id
             order by c.id limit 200) as customers
from app.merchant_members mm
where mm.role = 'owner'
  and exists (select 1 from app.merchant_customers c
              where c.merchant_id = mm.merchant_id);

select count(*) as readers from bench_readers \gset
select coalesce(max(chain_seq), 0) as last_seq
from security.customer_access_audit \gset
select :rows >= 1000000 as many \gset

-- Many rows go in faster without the secondary indexes, which are then
-- built once, sorted; the primary key and chain_seq grow in order anyway.
\if :many
create temp table bench_audit_indexes as
select i.indexname, i.indexdef
from pg_indexes i
where i.schemaname = 'security'
  and i.tablename = 'customer_access_audit'
  and not exists (select 1 from pg_constraint c
                  where c.conname = i.indexname
                    and c.conrelid = 'security.customer_access_audit'::regclass);
select format('drop index security.%I', indexname)
from bench_audit_indexes \gexec
\endif

-- Kinds: 70% view, 25% list, 4% reveal, 1% export. Results: 97% allowed,
-- the rest not_found, over_quota and denied.
insert into security.customer_access_audit
  (at, user_id, session_id, ip, request_id, merchant_id, customer_id, kind,
   fields, reason, result, chain_seq, chain_hash)
select now() - interval '90 days' * (1 - g::double precision / :rows),
       r.user_id,
       gen_random_uuid(),
       '10.0.0.0'::inet + (g % 65536),
       left(md5(g::text), 24),
       r.merchant_id,
       r.customers[1 + (g / :readers) % cardinality(r.customers)],
       k.kind,
       case when k.kind in ('reveal', 'export')
            then array['name', 'email', 'phone', 'address']
            else array['name_mask', 'email_mask', 'phone_mask',
                       'address_mask'] end,
       case when k.kind in ('reveal', 'export')
            then 'customer asked for a copy of their data' end,
       case (g / 100) % 100 when 0 then 'not_found' when 1 then 'over_quota'
                            when 2 then 'denied' else 'allowed' end,
       :last_seq + g,
       sha256(int8send(g))
from generate_series(1, :rows) g
join bench_readers r on r.i = g % :readers
cross join lateral (
  select case when g % 100 < 70 then 'view'
              when g % 100 < 95 then 'list'
              when g % 100 < 99 then 'reveal'
              else 'export' end as kind) k;

\if :many
select indexdef from bench_audit_indexes \gexec
\endif

vacuum (analyze) security.customer_access_audit;
