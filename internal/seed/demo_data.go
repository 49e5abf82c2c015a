package seed

// The demo's fixed content. Every person, address and phone number here is
// invented: emails are under the reserved .test domain and phone numbers in
// the 555-0100 to 555-0199 range set aside for fiction.

// demoDomain is the mail domain of the demo's merchant accounts.
const demoDomain = "example.test"

// demoRole is one kind of demo account and its fixed password. No password
// contains the role, since the policy refuses one that contains the email's
// local part.
type demoRole struct {
	role     string
	password string
}

var (
	demoOwner   = demoRole{"owner", "demo-Founder-pass-2024!"}
	demoManager = demoRole{"manager", "demo-Lead-pass-2024!"}
	demoStaff   = demoRole{"staff", "demo-Crew-pass-2024!"}
	demoShopper = demoRole{"shopper", "demo-Guest-pass-2024!"}
)

// demoShopperEmail is the account that belongs to no merchant.
const demoShopperEmail = "shopper@rampart.example.test"

type demoMerchant struct {
	name         string
	slug         string
	skuPrefix    string
	category     string
	description  string
	contactPhone string
	items        []demoItem
}

type demoItem struct {
	title string
	price int64 // cents
}

// Items 0 to 5 are published and listed on the market, item 6 is published
// but not listed and item 7 is a draft.
const (
	demoListed    = 6
	demoPublished = 7
)

var demoMerchants = []demoMerchant{
	{
		name: "Acme Coffee", slug: "acme-coffee", skuPrefix: "ACME",
		category:     "coffee",
		description:  "Small-batch roasts and brewing gear.",
		contactPhone: "+1 202 555 0100",
		items: []demoItem{
			{"House espresso beans 1 kg", 8900}, {"Decaf beans 500 g", 5400},
			{"Cold brew bottle 1 l", 2900}, {"Ceramic mug", 4500},
			{"Pour-over kit", 15900}, {"Milk frother", 12900},
			{"Barista course (4 h)", 29900}, {"Gift card", 10000},
		},
	},
	{
		name: "Blue Bikes", slug: "blue-bikes", skuPrefix: "BLUE",
		category:     "bikes",
		description:  "City bikes, parts and repairs.",
		contactPhone: "+1 202 555 0101",
		items: []demoItem{
			{"City bike 7-speed", 249900}, {"Helmet", 18900},
			{"U-lock", 15900}, {"Tyre 700x32c", 9900},
			{"Light set", 11900}, {"Repair kit", 6900},
			{"Tune-up service", 14900}, {"Kids bike 16\"", 99900},
		},
	},
	{
		name: "Casa Verde", slug: "casa-verde", skuPrefix: "CASA",
		category:     "garden",
		description:  "House plants, pots and everything to keep them green.",
		contactPhone: "+1 202 555 0102",
		items: []demoItem{
			{"Monstera deliciosa", 12900}, {"Snake plant", 7900},
			{"Terracotta pot 20 cm", 3900}, {"Potting soil 10 l", 2900},
			{"Watering can", 5900}, {"Plant food 250 ml", 2400},
			{"Succulent trio", 6900}, {"Bonsai starter kit", 18900},
		},
	},
}

// demoPeople are the customers every demo merchant has.
var demoPeople = []string{
	"Alex Example", "Bea Sample", "Caio Placeholder", "Dana Demo",
	"Eli Fictional", "Fran Mock", "Gus Synthetic", "Hana Testcase",
	"Ivo Dummy", "Jo Specimen",
}

// demoStatuses are the statuses of a merchant's orders, in order.
var demoStatuses = []string{
	"delivered", "shipped", "processing", "pending", "invoiced",
	"delivered", "canceled", "delivered", "shipped", "pending",
}

var demoCards = []struct{ brand, last4 string }{
	{"visa", "4242"}, {"mastercard", "4444"}, {"elo", "1881"},
}
