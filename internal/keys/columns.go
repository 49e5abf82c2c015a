package keys

// column is one sealed column: where it lives, the name its values are
// bound to (the AAD prefix given to marketplace.AAD), and the two
// statements the walk runs on it. The statements are written out in full,
// one pair per column, so no identifier is ever assembled at run time.
type column struct {
	table string
	name  string
	aad   string
	// list reads the next batch: $1 is the last id of the previous batch,
	// $2 the batch size.
	list string
	// update replaces one value: $1 id, $2 new value, $3 the value read.
	// Comparing with the value read makes a concurrent writer win.
	// updated_at is left alone: the data did not change.
	update string
}

// columns lists every sealed column, in the order they are rotated.
var columns = []column{
	{
		table: "app.merchant_customers",
		name:  "name_sealed",
		aad:   "merchant_customers.name",
		list: `
select
  id,
  name_sealed
from app.merchant_customers
where id > $1
  and name_sealed is not null
order by id
limit $2`,
		update: `
update app.merchant_customers
set name_sealed = $2
where id = $1
  and name_sealed = $3`,
	},
	{
		table: "app.merchant_customers",
		name:  "email_sealed",
		aad:   "merchant_customers.email",
		list: `
select
  id,
  email_sealed
from app.merchant_customers
where id > $1
  and email_sealed is not null
order by id
limit $2`,
		update: `
update app.merchant_customers
set email_sealed = $2
where id = $1
  and email_sealed = $3`,
	},
	{
		table: "app.merchant_customers",
		name:  "phone_sealed",
		aad:   "merchant_customers.phone",
		list: `
select
  id,
  phone_sealed
from app.merchant_customers
where id > $1
  and phone_sealed is not null
order by id
limit $2`,
		update: `
update app.merchant_customers
set phone_sealed = $2
where id = $1
  and phone_sealed = $3`,
	},
	{
		table: "app.merchant_customers",
		name:  "address_sealed",
		aad:   "merchant_customers.address",
		list: `
select
  id,
  address_sealed
from app.merchant_customers
where id > $1
  and address_sealed is not null
order by id
limit $2`,
		update: `
update app.merchant_customers
set address_sealed = $2
where id = $1
  and address_sealed = $3`,
	},
	{
		table: "app.orders",
		name:  "shipping_address_sealed",
		aad:   "orders.shipping_address",
		list: `
select
  id,
  shipping_address_sealed
from app.orders
where id > $1
  and shipping_address_sealed is not null
order by id
limit $2`,
		update: `
update app.orders
set shipping_address_sealed = $2
where id = $1
  and shipping_address_sealed = $3`,
	},
}
